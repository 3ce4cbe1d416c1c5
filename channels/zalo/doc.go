// Package zalo is the Zalo Official Account (OA) channel: it receives Zalo's webhook at
// POST /webhooks/zalo/{oa}, answers citizens through the assistant, and sends the replies through the OA API
// (/v3.0/oa/message/cs) with buttons for the cited procedure and the suggested follow-ups.
//
// # Flow
//
// A delivery is verified (X-ZEvent-Signature = SHA-256(app_id + raw body + timestamp + OA secret key), compared
// in constant time, timestamp inside the replay window), routed by an explicit table of event names, and written
// durably to an inbox keyed by (OA, msg_id) before Zalo gets its 200: a re-delivery finds the key and is
// acknowledged without a second job, a store failure answers 500 so that Zalo retries. Workers take inbox jobs,
// ask the assistant (the Answerer), and in ONE transaction mark the job done and write the reply messages to an
// outbox. A sender delivers outbox rows; a row is marked sent only after the API answered error 0. Rate limits
// (-32), 5xx and network errors are retried with capped exponential backoff and jitter; -216/-220 refresh the
// access token once and retry; window and permission errors (-213, -230, …) are final and recorded.
//
// # Delivery guarantees
//
// Nothing acknowledged is lost: a job or a send is held under a lease (a token and a time); a process that
// dies holding it leaves the lease to expire and another worker takes the job again. Opening a queue clears
// no lease: in PostgreSQL, which live processes share, a lease ends by time only; the embedded store, which
// one process holds at a time, also ends the leases of the previous holder of the file at once. Completing a
// job checks that the lease is still held, so a job retaken after a slow worker's lease expired is answered
// once; an API call of a send is cut off before its lease ends, so a slow API cannot have two senders deliver
// one message. A worker whose store fails for a moment (a database restarting) as it records a job's answer
// or retry, or a send's record or outcome, records it again with backoff while its lease lasts, so a blip
// does not leave the message waiting for the lease to end. A job whose worker died after the assistant stored the turn in the conversation but before the
// job's commit is answered again, so the conversation may record that turn twice; the citizen still gets one
// reply.
//
// A send is recorded as in flight, durably, before each call of the send API, and as sent (or failed, or to
// retry) after the answer. A call the API answered is settled either way. A call whose outcome is unknown —
// its process died between the request and the commit of the answer, or no usable answer came after the
// whole request went out — is ambiguous: Zalo may have delivered the message, and the API takes no
// idempotency key to ask. Such a message is not sent again at once, and not dropped: it waits (EchoWait,
// 2 minutes) for Zalo's oa_send_text echo of it, which the webhook matches (same user, same text, not older
// than the call, not the id of a message already sent) and records as sent; without an echo it is sent
// again, and counted (trolyao_zalo_unknown_sends_total{resolution="resent"}). What remains is one window no
// protocol over this API can close: a message Zalo delivered during a call whose outcome was lost, and whose
// echo does not reach the service within the wait (the oa_send_text event not subscribed, or Zalo
// re-delivering it later), is delivered twice. docs/BENCHMARKS.md measures how often the ambiguous case
// arises in crash-restart runs.
//
// zalo-oa.md lists oa_send_* events as echoes of what the OA sent. That they come for messages sent through
// the API, with the text as sent (surrounding white space aside) and the API's message id as msg_id, is
// assumed: an echo that does not match confirms nothing, and its message is sent again after the wait. A
// wrong match would need the same text sent to the same user since the call began (a staff reply typed in
// Zalo's console, say) while the call's outcome is unknown.
//
// # Ordering
//
// Messages of one user of one OA are answered and delivered in order: a worker only takes the oldest
// unfinished job of a user, and that job is leased, so no two workers hold jobs of the same user; the sender
// likewise only takes the oldest unsent message of a user. Enqueueing locks the user's row before the job gets
// its sequence number, so the numbers of one user's jobs follow their commit order. Existing PostgreSQL job
// queues (river, for one) do not serialise jobs per key, which is why this package keeps its own small queue
// behind the Queue interface, with two implementations: channels/zalo/boltqueue (a bbolt file of its own,
// fsync'd on every commit, for the embedded mode) and channels/zalo/pgqueue (PostgreSQL, tables of migrations
// 0005_zalo.sql and 0009_zalo_sending.sql, SELECT … FOR UPDATE SKIP LOCKED).
//
// # Tokens
//
// Each OA's access token, its expiry and the single-use refresh token live in the same store. A refresh runs
// under a per-OA lock (a row lock in PostgreSQL, so two processes never spend the same refresh token) and the
// new refresh token is committed before the old one is forgotten. A rejected refresh marks the OA as needing
// re-authorisation and logs an error; its messages wait, with backoff, until the attempts run out.
//
// # Privacy
//
// Logs never carry message text, secrets, or user ids in full (a short hash stands for a user).
//
// The package imports the assistant and knowledge packages (for the answer types and the conversation id
// limit), the Prometheus client and the standard library; the queues live in subpackages: boltqueue, the only
// one that imports bbolt, and pgqueue, the only one that imports pgx.
package zalo
