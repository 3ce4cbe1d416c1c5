-- Staff corrections of the communes' public administrative service centres (package staff, staff/postgres):
-- one row per corrected unit, which replaces the centres file's name, address, precision, phone and hours for
-- that unit; deleting the row goes back to the file. Version increases by one per save. Changes are announced
-- on the channel trolyao_staff_centres.
CREATE TABLE staff_centres (
    unit_code         text COLLATE "C" PRIMARY KEY,
    version           integer NOT NULL CHECK (version > 0),
    name              text NOT NULL,
    address           text NOT NULL,
    address_precision text NOT NULL DEFAULT '',
    phone             text NOT NULL DEFAULT '',
    hours             text NOT NULL DEFAULT '',
    note              text NOT NULL DEFAULT '',
    by_user           text NOT NULL,
    at                timestamptz NOT NULL
);
