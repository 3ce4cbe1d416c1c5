-- Conversations (knowledge.Conversations): the dialogue state of each conversation and its last messages.
-- Times are whole microseconds, as every store keeps them. Deleting a conversation deletes its messages.

-- conversations holds one row per conversation: its dialogue state (knowledge.DialogueState as JSON), the
-- time of its last append, and the last message ID assigned. Append takes the row's lock with its upsert,
-- which serialises appends to one conversation and hands out IDs without gaps.
CREATE TABLE conversations (
    id      text COLLATE "C" PRIMARY KEY,
    state   jsonb NOT NULL,
    last_id bigint NOT NULL DEFAULT 0,
    updated timestamptz NOT NULL
);
-- Purge deletes by age.
CREATE INDEX conversations_updated_idx ON conversations (updated);

-- conversation_messages holds the messages (at most knowledge.MaxStoredMessages per conversation; Append
-- drops the oldest). feedback is 0 when none was given.
CREATE TABLE conversation_messages (
    conversation_id text COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    id              bigint NOT NULL,
    role            text NOT NULL CHECK (role IN ('user', 'assistant')),
    text            text NOT NULL,
    codes           text[] NOT NULL DEFAULT '{}',
    at              timestamptz NOT NULL,
    feedback        smallint NOT NULL DEFAULT 0 CHECK (feedback BETWEEN -1 AND 1),
    abstain         boolean NOT NULL DEFAULT false,
    channel         text NOT NULL DEFAULT '',
    PRIMARY KEY (conversation_id, id)
);
