-- Which sellers a customer's cases are read by: each deal's customer, owner and team,
-- learnt from the sales events (opened, reassigned). Ids only, no personal data.
CREATE TABLE IF NOT EXISTS customer_deals (
    opportunity_id uuid PRIMARY KEY,
    customer_id    text NOT NULL,
    owner_id       text,
    owner_team     text
);
CREATE INDEX IF NOT EXISTS customer_deals_by_owner ON customer_deals (owner_id, customer_id);
CREATE INDEX IF NOT EXISTS customer_deals_by_team ON customer_deals (owner_team, customer_id);
