-- Why a citizen found an answer unhelpful (knowledge.FeedbackReasons), given with feedback -1; '' for none.
ALTER TABLE conversation_messages ADD COLUMN IF NOT EXISTS feedback_reason text NOT NULL DEFAULT '';
