-- 0012_outbox_autovacuum: the outbox is a queue (every event inserted, then deleted once
-- delivered), so it is mostly dead rows between vacuums, and the relay's claim walks them. The
-- default trigger (50 rows + 20% of the table's estimated size) waits for a fixed fraction of a
-- table that is tiny when healthy and large after a backlog; after a crash the statistics that
-- drive it start from zero. Vacuum it after every 1,000 dead rows, without cost-based pauses.
ALTER TABLE outbox_events SET (autovacuum_vacuum_scale_factor = 0,
                               autovacuum_vacuum_threshold = 1000,
                               autovacuum_vacuum_cost_delay = 0);
