CREATE TABLE IF NOT EXISTS totals (
    customer_id text PRIMARY KEY,
    total numeric NOT NULL,
    purchases integer NOT NULL
);
