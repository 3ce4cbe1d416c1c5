-- The unit a staff account publishes for ("UBND phường Bàn Cờ"), named in the answers citizens get from the
-- records it publishes; '' for none.
ALTER TABLE staff_users ADD COLUMN unit text NOT NULL DEFAULT '';
