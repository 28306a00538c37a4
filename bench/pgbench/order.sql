-- The statements shopd runs for a two-line order (src/order/app/place_order.c over
-- src/order/adapters/pg_*.c, infra/pg_idempotency.c, infra/pg_ledger.c), in the same order and
-- the same two pipelines: the reads (BEGIN, key lock, key lookup, catalogue, balance, a new
-- order id), then every write, the record and COMMIT. shopd sends the reserved id back as a
-- parameter; pgbench cannot \gset inside a pipeline, so here currval() stands in for it.
-- Prices follow bench/seed.sql (1000 + (id % 100) * 100). Bodies and payloads are
-- 300-character stand-ins of the JSON shopd stores (pgbench reads ":name" in literals).
\set u random(1, :users)
\set p1 random(1, :products / 2)
\set p2 random(:products / 2 + 1, :products)
\set k random(1, 1000000000000)
\set price1 1000 + (:p1 % 100) * 100
\set price2 1000 + (:p2 % 100) * 100
\set total :price1 + :price2
\startpipeline
BEGIN;
SELECT pg_try_advisory_xact_lock(hashtextextended(:u::text || ':' || 'order' || ':' || 'pgb-' || :k, 0));
SELECT fingerprint, response_status, response_body FROM idempotency_keys WHERE user_id = :u AND scope = 'order' AND key = 'pgb-' || :k;
SELECT id, name, price, stock FROM products WHERE id = ANY(ARRAY[:p1, :p2]::bigint[]) ORDER BY id;
SELECT balance FROM users WHERE id = :u;
SELECT nextval('orders_id_seq'), extract(epoch FROM now())::bigint;
\endpipeline
\startpipeline
WITH t AS (UPDATE products SET stock = stock - 1 WHERE id = :p1 AND stock >= 1 AND price = :price1 RETURNING 1) SELECT shopd_expect(EXISTS (SELECT 1 FROM t), 'the stock or price of product ' || :p1::text);
WITH t AS (UPDATE products SET stock = stock - 1 WHERE id = :p2 AND stock >= 1 AND price = :price2 RETURNING 1) SELECT shopd_expect(EXISTS (SELECT 1 FROM t), 'the stock or price of product ' || :p2::text);
WITH o AS (INSERT INTO orders (id, user_id, status, subtotal, discount, total, coupon_id) OVERRIDING SYSTEM VALUE VALUES (currval('orders_id_seq'), :u, 'PAID', :total, 0, :total, NULLIF(0::bigint, 0)) RETURNING id), l AS (INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, amount) SELECT o.id, x.product_id, p.name, x.unit_price, x.quantity, x.amount FROM o, unnest(ARRAY[:p1, :p2]::bigint[], ARRAY[:price1, :price2]::bigint[], ARRAY[1, 1]::bigint[], ARRAY[:price1, :price2]::bigint[]) AS x(product_id, unit_price, quantity, amount) JOIN products p ON p.id = x.product_id), s AS (INSERT INTO product_sales_daily (day, product_id, quantity) SELECT (now() AT TIME ZONE 'UTC')::date, x.product_id, x.quantity FROM unnest(ARRAY[:p1, :p2]::bigint[], ARRAY[1, 1]::bigint[]) AS x(product_id, quantity) ON CONFLICT (day, product_id) DO UPDATE SET quantity = product_sales_daily.quantity + EXCLUDED.quantity, version = product_sales_daily.version + 1) SELECT id FROM o;
WITH u AS (UPDATE users SET balance = balance - :total WHERE id = :u AND balance >= :total RETURNING id, balance), l AS (INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id) SELECT id, 'USE', -(:total::bigint), balance, currval('orders_id_seq') FROM u RETURNING 1) SELECT shopd_expect(EXISTS (SELECT 1 FROM l), 'the balance of user ' || :u::text);
INSERT INTO outbox_events (type, aggregate_id, payload) VALUES ('ORDER_PAID', currval('orders_id_seq'), to_jsonb(repeat('x', 300)));
INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status, response_body) VALUES (:u, 'order', 'pgb-' || :k, 'u=1;c=0;i=1x1,2x1', 201, repeat('x', 300));
COMMIT;
\endpipeline
