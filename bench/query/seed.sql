-- A large data set for the query report (synthetic, set-based, ~1 minute):
-- 10,000 products, 100,000 users, 333,334 orders over the last 30 days
-- (1 in 20 cancelled), 1,000,002 order lines, a ledger row per order, the
-- daily sales those orders make, 100,000 idempotency keys, an outbox event
-- per order (all SENT but the last 100), one coupon campaign with 50,000 owners.
-- Amounts are not meant to add up: this data exercises plans, not money.
SET synchronous_commit = off;
INSERT INTO products (name, price, stock)
SELECT 'product ' || g, 1000 + (g * 37 % 500) * 100, 1000000 FROM generate_series(1, 10000) g;
INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, 100000) g;
INSERT INTO orders (user_id, status, subtotal, discount, total, created_at, cancelled_at)
SELECT 1 + (g::bigint * 7919 % 100000),
       CASE WHEN g % 20 = 0 THEN 'CANCELLED' ELSE 'PAID' END, 0, 0, 0,
       now() - (g % (30 * 24 * 60)) * interval '1 minute',
       CASE WHEN g % 20 = 0 THEN now() END
  FROM generate_series(1, 333334) g;
INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, amount)
SELECT o.id, 1 + ((o.id * 31 + k * 3331) % 10000), 'product', 1000, 1 + o.id % 3,
       1000 * (1 + o.id % 3)
  FROM orders o, generate_series(1, 3) k;
INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id)
SELECT user_id, 'CHARGE', 1000, 1000, id FROM orders;
INSERT INTO product_sales_daily (day, product_id, quantity)
SELECT (o.created_at AT TIME ZONE 'UTC')::date, l.product_id, sum(l.quantity)
  FROM order_lines l JOIN orders o ON o.id = l.order_id
 WHERE o.status = 'PAID' GROUP BY 1, 2;
INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status, response_body, created_at)
SELECT 1 + g % 100000, 'order', 'key-' || g, 'f', 201, '{}', now() - (g % 2880) * interval '1 minute'
  FROM generate_series(1, 100000) g;
-- the outbox holds undelivered events only: a long outage's backlog, backing off, and 100 due
INSERT INTO outbox_events (type, aggregate_id, payload, next_attempt_at)
SELECT 'ORDER_PAID', id, '{}', now() + interval '1 hour' FROM orders;
UPDATE outbox_events SET next_attempt_at = now()
 WHERE id > (SELECT max(id) - 100 FROM outbox_events);
INSERT INTO coupons (name, discount_type, discount_value, total_quantity, issued_quantity, expires_at)
VALUES ('BIG', 'FIXED', 1000, 100000, 50000, now() + interval '30 days');
INSERT INTO user_coupons (coupon_id, user_id) SELECT 1, g FROM generate_series(1, 50000) g;
VACUUM ANALYZE;
