-- 0002_orders: orders and their lines, idempotency outcomes, the transactional outbox.

CREATE TABLE orders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    status       text   NOT NULL CHECK (status IN ('PAID', 'CANCELLED')),
    subtotal     bigint NOT NULL CHECK (subtotal >= 0),
    discount     bigint NOT NULL CHECK (discount >= 0 AND discount <= subtotal),
    total        bigint NOT NULL CHECK (total = subtotal - discount),
    coupon_id    bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    cancelled_at timestamptz,
    CHECK ((status = 'CANCELLED') = (cancelled_at IS NOT NULL))
);
-- a user's orders, newest first
CREATE INDEX orders_user_id_id ON orders (user_id, id DESC);

-- Prices and names are copied at purchase time: later catalogue edits never change an order.
CREATE TABLE order_lines (
    order_id   bigint NOT NULL REFERENCES orders (id),
    product_id bigint NOT NULL REFERENCES products (id),
    name       text   NOT NULL,
    unit_price bigint NOT NULL CHECK (unit_price >= 0),
    quantity   bigint NOT NULL CHECK (quantity > 0),
    amount     bigint NOT NULL CHECK (amount = unit_price * quantity),
    PRIMARY KEY (order_id, product_id)
);

ALTER TABLE point_ledger ADD CONSTRAINT point_ledger_order_id_fkey
    FOREIGN KEY (order_id) REFERENCES orders (id);
CREATE INDEX point_ledger_order_id ON point_ledger (order_id) WHERE order_id IS NOT NULL;

-- The first outcome of each (user, scope, key), replayed to retries. Written in
-- the same transaction as the work it records, so an outcome exists exactly
-- when its effects do.
CREATE TABLE idempotency_keys (
    user_id         bigint NOT NULL,
    scope           text   NOT NULL CHECK (scope IN ('order', 'charge')),
    key             text   NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    fingerprint     text   NOT NULL,
    response_status int    NOT NULL,
    response_body   text   NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, scope, key)
);
-- the reaper deletes by age
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- Events leave through here: written with the order, sent after commit.
CREATE TABLE outbox_events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid   NOT NULL UNIQUE DEFAULT gen_random_uuid(),
    type            text   NOT NULL,
    aggregate_id    bigint NOT NULL,
    payload         jsonb  NOT NULL,
    status          text   NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'SENT', 'FAILED')),
    attempts        int    NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
-- the relay claims due pending rows; the partial index stays small
CREATE INDEX outbox_events_pending ON outbox_events (next_attempt_at) WHERE status = 'PENDING';
