-- 0005_sales_version: every change to a day's sales row bumps its version, so a
-- copy elsewhere (the Redis ranking) can keep the newest value whatever order
-- its updates arrive in: row updates serialise on the row lock, so a higher
-- version is always a later committed value.
ALTER TABLE product_sales_daily ADD COLUMN version bigint NOT NULL DEFAULT 1;
