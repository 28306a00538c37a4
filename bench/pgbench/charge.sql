-- The statement shopd runs for a point charge (src/infra/pg_ledger.c, ledger_charge): one
-- statement, so one transaction and one round trip; it also reads the balance its refusal
-- would report.
\set id random(1, :users)
WITH u AS (UPDATE users SET balance = balance + 1 WHERE id = :id AND balance + 1 <= 100000000 RETURNING id, balance), l AS (INSERT INTO point_ledger (user_id, type, amount, balance_after) SELECT id, 'CHARGE', 1, balance FROM u RETURNING balance_after) SELECT (SELECT balance_after FROM l), (SELECT balance FROM users WHERE id = :id);
