-- 0007_coupon_issue_requests: asynchronous coupon issuance (POST /coupons/{id}/issue-requests).
-- The coupon-issuer consumer decides a batch of queued requests in one statement, so one
-- transaction, in arrival order. The guards stay the ones of 0003: UNIQUE (coupon_id, user_id)
-- and CHECK (issued_quantity <= total_quantity); this function only reports why a request
-- changed nothing.

-- which asynchronous request issued this coupon (NULL: the synchronous POST …/issue); lets a
-- redelivered request find its own coupon and be reported ISSUED, not ALREADY_ISSUED. Looked up
-- through UNIQUE (coupon_id, user_id), so it needs no index of its own.
ALTER TABLE user_coupons ADD COLUMN issue_request_id bigint;

-- One row per request, in input order: r_outcome is 'ISSUED' (r_user_coupon_id set),
-- 'COUPON_ALREADY_ISSUED', 'COUPON_SOLD_OUT', 'COUPON_EXPIRED', 'COUPON_NOT_FOUND' or
-- 'USER_NOT_FOUND'. A refused request changes nothing (its subtransaction is rolled back).
CREATE FUNCTION coupon_issue_batch(p_request_ids bigint[], p_coupon_ids bigint[],
                                   p_user_ids bigint[])
RETURNS TABLE (r_request_id bigint, r_outcome text, r_user_coupon_id bigint)
LANGUAGE plpgsql AS $$
DECLARE
    i        int;
    uc_id    bigint;
    owner_rq bigint;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_request_ids, 1), 0) LOOP
        r_request_id := p_request_ids[i];
        r_user_coupon_id := NULL;
        SELECT uc.id, uc.issue_request_id INTO uc_id, owner_rq
          FROM user_coupons uc WHERE uc.coupon_id = p_coupon_ids[i] AND uc.user_id = p_user_ids[i];
        IF FOUND THEN
            -- this very request, delivered again after its batch committed: still ISSUED
            IF owner_rq IS NOT NULL AND owner_rq = p_request_ids[i] THEN
                r_outcome := 'ISSUED';
                r_user_coupon_id := uc_id;
            ELSE
                r_outcome := 'COUPON_ALREADY_ISSUED';
            END IF;
        ELSE
            BEGIN
                UPDATE coupons SET issued_quantity = issued_quantity + 1
                 WHERE id = p_coupon_ids[i] AND issued_quantity < total_quantity
                   AND expires_at > now();
                IF FOUND THEN
                    INSERT INTO user_coupons (coupon_id, user_id, issue_request_id)
                    VALUES (p_coupon_ids[i], p_user_ids[i], p_request_ids[i])
                    RETURNING id INTO uc_id;
                    r_outcome := 'ISSUED';
                    r_user_coupon_id := uc_id;
                ELSE
                    SELECT CASE WHEN c.expires_at <= now() THEN 'COUPON_EXPIRED'
                                ELSE 'COUPON_SOLD_OUT' END
                      INTO r_outcome FROM coupons c WHERE c.id = p_coupon_ids[i];
                    IF NOT FOUND THEN
                        r_outcome := 'COUPON_NOT_FOUND';
                    END IF;
                END IF;
            EXCEPTION
                -- a concurrent POST …/issue committed this user's coupon first
                WHEN unique_violation THEN r_outcome := 'COUPON_ALREADY_ISSUED';
                WHEN foreign_key_violation THEN r_outcome := 'USER_NOT_FOUND';
            END;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
