-- The reference 2-line order as one server-side function (bench only; not part of shopd's
-- schema): the statements of bench/pgbench/reference_order.sql, in one call.
CREATE OR REPLACE FUNCTION bench_reference_order(u bigint, p1 bigint, p2 bigint, price1 bigint,
                                                 price2 bigint, k text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    total bigint := price1 + price2;
    bal bigint;
    oid bigint;
BEGIN
    INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status, response_body)
    VALUES (u, 'order', k, 'f', 0, '');
    UPDATE products SET stock = stock - 1 WHERE id = p1 AND stock >= 1;
    IF NOT FOUND THEN RAISE EXCEPTION 'out of stock'; END IF;
    UPDATE products SET stock = stock - 1 WHERE id = p2 AND stock >= 1;
    IF NOT FOUND THEN RAISE EXCEPTION 'out of stock'; END IF;
    UPDATE users SET balance = balance - total WHERE id = u AND balance >= total
    RETURNING balance INTO bal;
    IF NOT FOUND THEN RAISE EXCEPTION 'insufficient balance'; END IF;
    INSERT INTO orders (user_id, status, subtotal, discount, total)
    VALUES (u, 'PAID', total, 0, total) RETURNING id INTO oid;
    INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, amount)
    VALUES (oid, p1, 'product', price1, 1, price1), (oid, p2, 'product', price2, 1, price2);
    INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id)
    VALUES (u, 'USE', -total, bal, oid);
    INSERT INTO outbox_events (type, aggregate_id, payload)
    VALUES ('ORDER_PAID', oid, to_jsonb(repeat('x', 300)));
    INSERT INTO product_sales_daily (day, product_id, quantity)
    VALUES ((now() AT TIME ZONE 'UTC')::date, p1, 1), ((now() AT TIME ZONE 'UTC')::date, p2, 1)
    ON CONFLICT (day, product_id) DO UPDATE
        SET quantity = product_sales_daily.quantity + EXCLUDED.quantity,
            version = product_sales_daily.version + 1;
    UPDATE idempotency_keys SET response_status = 201, response_body = repeat('x', 300)
     WHERE user_id = u AND scope = 'order' AND key = k;
    RETURN oid;
END
$$;
