-- The statements shopd runs for a two-line order (src/order/adapters/pg_*.c and
-- infra/pg_idempotency.c), in the same order, with the same round trips.
-- Prices follow bench/seed.sql (1000 + (id % 100) * 100). Bodies and payloads are
-- 300-character stand-ins of the JSON shopd stores (pgbench reads ":name" in literals).
\set u random(1, :users)
\set p1 random(1, :products / 2)
\set p2 random(:products / 2 + 1, :products)
\set k random(1, 1000000000000)
\set price1 1000 + (:p1 % 100) * 100
\set price2 1000 + (:p2 % 100) * 100
\set total :price1 + :price2
BEGIN;
SELECT pg_try_advisory_xact_lock(hashtextextended(:u::text || ':' || 'order' || ':' || 'pgb-' || :k, 0));
SELECT fingerprint, response_status, response_body FROM idempotency_keys WHERE user_id = :u AND scope = 'order' AND key = 'pgb-' || :k;
SAVEPOINT order_work;
UPDATE products SET stock = stock - 1 WHERE id = :p1 AND stock >= 1 RETURNING name, price;
UPDATE products SET stock = stock - 1 WHERE id = :p2 AND stock >= 1 RETURNING name, price;
WITH o AS (INSERT INTO orders (user_id, status, subtotal, discount, total, coupon_id) VALUES (:u, 'PAID', :total, 0, :total, NULLIF(0::bigint, 0)) RETURNING id, extract(epoch FROM created_at)::bigint AS created), l AS (INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, amount) SELECT o.id, x.product_id, p.name, x.unit_price, x.quantity, x.amount FROM o, unnest(ARRAY[:p1, :p2]::bigint[], ARRAY[:price1, :price2]::bigint[], ARRAY[1, 1]::bigint[], ARRAY[:price1, :price2]::bigint[]) AS x(product_id, unit_price, quantity, amount) JOIN products p ON p.id = x.product_id), s AS (INSERT INTO product_sales_daily (day, product_id, quantity) SELECT (now() AT TIME ZONE 'UTC')::date, x.product_id, x.quantity FROM unnest(ARRAY[:p1, :p2]::bigint[], ARRAY[1, 1]::bigint[]) AS x(product_id, quantity) ON CONFLICT (day, product_id) DO UPDATE SET quantity = product_sales_daily.quantity + EXCLUDED.quantity, version = product_sales_daily.version + 1) SELECT id AS order_id, created FROM o \gset
WITH u AS (UPDATE users SET balance = balance - :total WHERE id = :u AND balance >= :total RETURNING id, balance) INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id) SELECT id, 'USE', -(:total::bigint), balance, :order_id FROM u RETURNING balance_after;
INSERT INTO outbox_events (type, aggregate_id, payload) VALUES ('ORDER_PAID', :order_id, to_jsonb(repeat('x', 300)));
INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status, response_body) VALUES (:u, 'order', 'pgb-' || :k, 'u=1;c=0;i=1x1,2x1', 201, repeat('x', 300));
COMMIT;
