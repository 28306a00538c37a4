-- 0004_sales: units sold per product per UTC day, the truth behind "popular products".
-- Written in the order's transaction, decreased by a cancel, so any window's
-- top-N is one indexed range scan of at most days × products rows.
CREATE TABLE product_sales_daily (
    day        date   NOT NULL,
    product_id bigint NOT NULL REFERENCES products (id),
    quantity   bigint NOT NULL CHECK (quantity >= 0),
    PRIMARY KEY (day, product_id)
);
