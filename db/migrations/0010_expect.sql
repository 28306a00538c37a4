-- 0010_expect: a guard for transactions sent as one pipeline. shopd reads what an order needs
-- (prices, stock, balance, coupon) first and then sends every write and the COMMIT together;
-- each conditional write ends in shopd_expect(<did it apply>, <what>). When a concurrent
-- transaction changed the row between the read and the write, the write applies to nothing and
-- this raises a serialization failure (40001): the server skips the rest of the pipeline and the
-- COMMIT, and shopd runs the order again from a fresh read, as for any 40001.
CREATE FUNCTION shopd_expect(ok boolean, what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF ok IS NOT TRUE THEN
        RAISE EXCEPTION 'shopd: % changed since it was read', what USING ERRCODE = '40001';
    END IF;
    RETURN true;
END
$$;
