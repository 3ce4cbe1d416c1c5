-- A staff publish written down before the catalog tables are changed (staff.PublishIntent, as JSON: the
-- versions to add with their records and the drafts to drop), completed or deleted once the change is known
-- to have been applied or not, so that a process killed between the two loses nothing.
CREATE TABLE IF NOT EXISTS staff_publish_intents (
    id     bigserial PRIMARY KEY,
    at     timestamptz NOT NULL,
    intent jsonb NOT NULL
);
