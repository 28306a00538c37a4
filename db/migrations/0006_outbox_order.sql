-- 0006_outbox_order: the relay claims an event only when every earlier event of the same order
-- is SENT (per-order ordering across relays); this partial index answers that check and the
-- backlog/parked gauges without touching the SENT rows, which grow without bound.
CREATE INDEX outbox_events_unsent_by_order ON outbox_events (aggregate_id, id) WHERE status <> 'SENT';
