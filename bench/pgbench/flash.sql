-- The statements shopd runs for a one-line order of product 1 (the flash sale),
-- as bench/pgbench/order.sql does for two lines (same stand-ins for JSON).
\set u random(1, :users)
\set k random(1, 1000000000000)
\set price 1100
BEGIN;
SELECT pg_try_advisory_xact_lock(hashtextextended(:u::text || ':' || 'order' || ':' || 'pgb-' || :k, 0));
SELECT fingerprint, response_status, response_body FROM idempotency_keys WHERE user_id = :u AND scope = 'order' AND key = 'pgb-' || :k;
SAVEPOINT order_work;
UPDATE products SET stock = stock - 1 WHERE id = 1 AND stock >= 1 RETURNING name, price;
WITH o AS (INSERT INTO orders (user_id, status, subtotal, discount, total, coupon_id) VALUES (:u, 'PAID', :price, 0, :price, NULLIF(0::bigint, 0)) RETURNING id, extract(epoch FROM created_at)::bigint AS created), l AS (INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, amount) SELECT o.id, x.product_id, p.name, x.unit_price, x.quantity, x.amount FROM o, unnest(ARRAY[1]::bigint[], ARRAY[:price]::bigint[], ARRAY[1]::bigint[], ARRAY[:price]::bigint[]) AS x(product_id, unit_price, quantity, amount) JOIN products p ON p.id = x.product_id), s AS (INSERT INTO product_sales_daily (day, product_id, quantity) SELECT (now() AT TIME ZONE 'UTC')::date, x.product_id, x.quantity FROM unnest(ARRAY[1]::bigint[], ARRAY[1]::bigint[]) AS x(product_id, quantity) ON CONFLICT (day, product_id) DO UPDATE SET quantity = product_sales_daily.quantity + EXCLUDED.quantity, version = product_sales_daily.version + 1) SELECT id AS order_id, created FROM o \gset
WITH u AS (UPDATE users SET balance = balance - :price WHERE id = :u AND balance >= :price RETURNING id, balance) INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id) SELECT id, 'USE', -(:price::bigint), balance, :order_id FROM u RETURNING balance_after;
INSERT INTO outbox_events (type, aggregate_id, payload) VALUES ('ORDER_PAID', :order_id, to_jsonb(repeat('x', 300)));
INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status, response_body) VALUES (:u, 'order', 'pgb-' || :k, 'u=1;c=0;i=1x1', 201, repeat('x', 300));
COMMIT;
