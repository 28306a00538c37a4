-- 0001_init: catalogue, users and the points ledger.
-- Every invariant the service promises is held here, whatever the application does.

CREATE TABLE products (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text   NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
    price      bigint NOT NULL CHECK (price >= 0),
    stock      bigint NOT NULL CHECK (stock >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text   NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    balance    bigint NOT NULL DEFAULT 0 CHECK (balance >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per point movement, signed: CHARGE and REFUND add, USE subtracts.
-- For every user, balance = sum(amount) and each row's balance_after is the
-- balance right after it (tests check both).
CREATE TABLE point_ledger (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       bigint NOT NULL REFERENCES users (id),
    type          text   NOT NULL CHECK (type IN ('CHARGE', 'USE', 'REFUND')),
    amount        bigint NOT NULL,
    balance_after bigint NOT NULL CHECK (balance_after >= 0),
    order_id      bigint,
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((type = 'USE' AND amount < 0) OR (type <> 'USE' AND amount > 0))
);

-- History is read newest first per user: this index serves it without a sort.
CREATE INDEX point_ledger_user_id_id ON point_ledger (user_id, id DESC);
