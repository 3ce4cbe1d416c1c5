-- The retrieval confidence of assistant messages (knowledge.Message.Confidence), which the staff feedback queue
-- reads with the messages' times (knowledge.FlagLister). Idempotent, so that it can be re-applied after
-- 0002_conversations is.
ALTER TABLE conversation_messages ADD COLUMN IF NOT EXISTS confidence double precision NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS conversation_messages_at_idx ON conversation_messages (at);
