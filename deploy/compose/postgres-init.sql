-- Run once by the postgres image when its data volume is empty (docker-entrypoint-initdb.d).
-- Same extensions as the local launcher creates in database crm.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
