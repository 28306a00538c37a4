-- A fixed reference for a 2-line order (issue 10), independent of how shopd does it: the
-- plain transaction a straightforward client would run, statement by statement, 12 round
-- trips. Same data as bench/seed.sql (prices 1000 + (id % 100) * 100); bodies and payloads
-- are 300-character stand-ins of the JSON shopd stores.
\set u random(1, :users)
\set p1 random(1, :products / 2)
\set p2 random(:products / 2 + 1, :products)
\set k random(1, 1000000000000)
\set price1 1000 + (:p1 % 100) * 100
\set price2 1000 + (:p2 % 100) * 100
\set total :price1 + :price2
BEGIN;
INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status, response_body) VALUES (:u, 'order', 'ref-' || :k, 'f', 0, '');
UPDATE products SET stock = stock - 1 WHERE id = :p1 AND stock >= 1;
UPDATE products SET stock = stock - 1 WHERE id = :p2 AND stock >= 1;
UPDATE users SET balance = balance - :total WHERE id = :u AND balance >= :total RETURNING balance AS balance_after \gset
INSERT INTO orders (user_id, status, subtotal, discount, total) VALUES (:u, 'PAID', :total, 0, :total) RETURNING id AS order_id \gset
INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, amount) VALUES (:order_id, :p1, 'product', :price1, 1, :price1), (:order_id, :p2, 'product', :price2, 1, :price2);
INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id) VALUES (:u, 'USE', -(:total::bigint), :balance_after, :order_id);
INSERT INTO outbox_events (type, aggregate_id, payload) VALUES ('ORDER_PAID', :order_id, to_jsonb(repeat('x', 300)));
INSERT INTO product_sales_daily (day, product_id, quantity) VALUES ((now() AT TIME ZONE 'UTC')::date, :p1, 1), ((now() AT TIME ZONE 'UTC')::date, :p2, 1) ON CONFLICT (day, product_id) DO UPDATE SET quantity = product_sales_daily.quantity + EXCLUDED.quantity, version = product_sales_daily.version + 1;
UPDATE idempotency_keys SET response_status = 201, response_body = repeat('x', 300) WHERE user_id = :u AND scope = 'order' AND key = 'ref-' || :k;
COMMIT;
