-- Benchmark data: :products products with ample stock, :users users funded
-- with 100,000,000 points each (ledger included, so balances equal ledger sums).
INSERT INTO products (name, price, stock)
SELECT 'product ' || g, 1000 + (g % 100) * 100, 1000000000 FROM generate_series(1, :products) g;
INSERT INTO users (name, balance) SELECT 'user ' || g, 50000000 FROM generate_series(1, :users) g;
INSERT INTO point_ledger (user_id, type, amount, balance_after)
SELECT id, 'CHARGE', 50000000, 50000000 FROM users;
VACUUM ANALYZE products;
VACUUM ANALYZE users;
