-- The starter questions staff set for the chat widget (package staff, staff/postgres): at most one row, which
-- replaces the operator's or the built-in questions; deleting it goes back to them. Version increases by one
-- per save. Changes are announced on the channel trolyao_staff_starters.
CREATE TABLE IF NOT EXISTS staff_starters (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   integer NOT NULL CHECK (version > 0),
    questions text[] NOT NULL,
    by_user   text NOT NULL,
    at        timestamptz NOT NULL
);
