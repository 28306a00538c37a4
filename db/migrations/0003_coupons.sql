-- 0003_coupons: first-come-first-served coupon campaigns and the coupons users own.

CREATE TABLE coupons (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text   NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    discount_type   text   NOT NULL CHECK (discount_type IN ('FIXED', 'RATE')),
    discount_value  bigint NOT NULL CHECK (discount_value > 0
                                           AND (discount_type = 'FIXED' OR discount_value <= 100)),
    total_quantity  bigint NOT NULL CHECK (total_quantity > 0),
    -- never more issued than there are: the database holds the first-come-first-served limit
    issued_quantity bigint NOT NULL DEFAULT 0
                    CHECK (issued_quantity >= 0 AND issued_quantity <= total_quantity),
    expires_at      timestamptz NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_coupons (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    coupon_id bigint NOT NULL REFERENCES coupons (id),
    user_id   bigint NOT NULL REFERENCES users (id),
    issued_at timestamptz NOT NULL DEFAULT now(),
    used_at   timestamptz,
    -- at most one per user and campaign, whatever the concurrency
    UNIQUE (coupon_id, user_id)
);
-- a user's coupons, newest first
CREATE INDEX user_coupons_user_id_id ON user_coupons (user_id, id DESC);

-- an order's coupon_id is the user's coupon it used
ALTER TABLE orders ADD CONSTRAINT orders_coupon_id_fkey
    FOREIGN KEY (coupon_id) REFERENCES user_coupons (id);
