-- The Zalo outbox records each call of the send API before it starts (channels/zalo, pgqueue), so that a
-- process dying during the call leaves a record saying that Zalo may have the message.
--
-- state: pending → sending (a call in flight: flight is its id, flight_at its start) → sent or failed; a
-- call without an answer, or left in flight by a dead process, makes the message 'unconfirmed': it waits
-- until not_before for Zalo's echo of the send (an oa_send_text event), which records it as sent, and is
-- sent again when none came. unknown counts the calls whose outcome was unknown. A message is unsent while
-- finished IS NULL.
ALTER TABLE zalo_outbox DROP CONSTRAINT zalo_outbox_state_check;
ALTER TABLE zalo_outbox ADD CONSTRAINT zalo_outbox_state_check
    CHECK (state IN ('pending', 'sending', 'unconfirmed', 'sent', 'failed'));
ALTER TABLE zalo_outbox
    ADD COLUMN flight    text NOT NULL DEFAULT '',
    ADD COLUMN flight_at timestamptz,
    ADD COLUMN unknown   integer NOT NULL DEFAULT 0;

DROP INDEX zalo_outbox_pending_idx;
DROP INDEX zalo_outbox_order_idx;
CREATE INDEX zalo_outbox_pending_idx ON zalo_outbox (oa, user_id, id) WHERE finished IS NULL;
CREATE INDEX zalo_outbox_order_idx ON zalo_outbox (id) WHERE finished IS NULL;
-- An echo carrying the id of a message already recorded as sent confirms nothing.
CREATE INDEX zalo_outbox_message_idx ON zalo_outbox (oa, message_id) WHERE message_id <> '';
