-- The statement shopd runs for a point charge (src/point/point_repo_pg.c, point_charge):
-- one statement, so one transaction and one round trip.
\set id random(1, :users)
WITH u AS (UPDATE users SET balance = balance + 1 WHERE id = :id AND balance + 1 <= 100000000 RETURNING id, balance), l AS (INSERT INTO point_ledger (user_id, type, amount, balance_after) SELECT id, 'CHARGE', 1, balance FROM u RETURNING balance_after) SELECT balance_after FROM l;
