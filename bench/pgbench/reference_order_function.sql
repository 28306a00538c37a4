-- The same work as bench/pgbench/reference_order.sql in one round trip: one call of a
-- server-side function (bench/pgbench/reference_order_function_def.sql, created by bench/run).
\set u random(1, :users)
\set p1 random(1, :products / 2)
\set p2 random(:products / 2 + 1, :products)
\set k random(1, 1000000000000)
\set price1 1000 + (:p1 % 100) * 100
\set price2 1000 + (:p2 % 100) * 100
SELECT bench_reference_order(:u, :p1, :p2, :price1, :price2, 'reff-' || :k);
