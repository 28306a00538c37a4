-- 0011_user_credentials: passwords (issue 11). Only an Argon2id hash is stored (libsodium's
-- encoded string: algorithm, parameters, salt and hash). A table apart from users, so the hot
-- users row (its balance changes with every charge and order) does not carry ~100 bytes more
-- into every new version of itself. Users created before this migration have no row and cannot
-- log in until a password is set for them (PUT /api/v1/users/{id}/password, by the admin).
CREATE TABLE user_credentials (
    user_id       bigint PRIMARY KEY REFERENCES users (id),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
