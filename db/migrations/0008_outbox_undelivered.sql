-- 0008_outbox_undelivered: the outbox now holds only undelivered events. The relay deletes a
-- row in the transaction that records its delivery (one DELETE instead of a claim UPDATE and a
-- SENT UPDATE, and a table as small as the backlog). Rows delivered before this migration go.
DELETE FROM outbox_events WHERE status = 'SENT';
ALTER TABLE outbox_events DROP CONSTRAINT outbox_events_status_check;
ALTER TABLE outbox_events ADD CONSTRAINT outbox_events_status_check CHECK (status IN ('PENDING', 'FAILED'));
-- "no earlier event of the same order is still here" (per-order ordering)
DROP INDEX outbox_events_unsent_by_order;
CREATE INDEX outbox_events_by_order ON outbox_events (aggregate_id, id);
ALTER TABLE outbox_events DROP COLUMN sent_at;
