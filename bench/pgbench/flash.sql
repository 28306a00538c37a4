-- The flash sale's fixed reference (issue 10): the plain transaction a straightforward client
-- would run for a one-line order of product 1, statement by statement (10 round trips), as
-- bench/pgbench/reference_order.sql does for two lines; independent of how shopd does it.
-- The hot row stays locked from its UPDATE to COMMIT, across every round trip after it.
\set u random(1, :users)
\set k random(1, 1000000000000)
\set price 1100
BEGIN;
INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status, response_body) VALUES (:u, 'order', 'ref-' || :k, 'f', 0, '');
UPDATE products SET stock = stock - 1 WHERE id = 1 AND stock >= 1;
UPDATE users SET balance = balance - :price WHERE id = :u AND balance >= :price RETURNING balance AS balance_after \gset
INSERT INTO orders (user_id, status, subtotal, discount, total) VALUES (:u, 'PAID', :price, 0, :price) RETURNING id AS order_id \gset
INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, amount) VALUES (:order_id, 1, 'product', :price, 1, :price);
INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id) VALUES (:u, 'USE', -(:price::bigint), :balance_after, :order_id);
INSERT INTO outbox_events (type, aggregate_id, payload) VALUES ('ORDER_PAID', :order_id, to_jsonb(repeat('x', 300)));
INSERT INTO product_sales_daily (day, product_id, quantity) VALUES ((now() AT TIME ZONE 'UTC')::date, 1, 1) ON CONFLICT (day, product_id) DO UPDATE SET quantity = product_sales_daily.quantity + EXCLUDED.quantity, version = product_sales_daily.version + 1;
UPDATE idempotency_keys SET response_status = 201, response_body = repeat('x', 300) WHERE user_id = :u AND scope = 'order' AND key = 'ref-' || :k;
COMMIT;
