-- Benchmark data: :products products with ample stock, :users users.
INSERT INTO products (name, price, stock)
SELECT 'product ' || g, 1000 + (g % 100) * 100, 1000000000 FROM generate_series(1, :products) g;
INSERT INTO users (name) SELECT 'user ' || g FROM generate_series(1, :users) g;
VACUUM ANALYZE products;
VACUUM ANALYZE users;
