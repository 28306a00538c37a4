-- 0009_outbox_claim_by_id: the relay claims the oldest due rows (ORDER BY id LIMIT n). Since
-- delivered rows are deleted (0008), the outbox churns: the (next_attempt_at) index answered the
-- claim with a bitmap scan that visited every dead row until vacuum (3 ms per claim under load).
-- An index in claim order stops after n live rows and learns to skip dead entries (LP_DEAD
-- hints). The (next_attempt_at) index stays for a backlog that is mostly backing off.
CREATE INDEX outbox_events_pending_by_id ON outbox_events (id) WHERE status = 'PENDING';
