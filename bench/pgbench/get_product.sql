-- The statement shopd runs for GET /api/v1/products/{id} (src/product/product_repo_pg.c, product_get).
\set id random(1, :products)
SELECT id, name, price, stock FROM products WHERE id = :id;
