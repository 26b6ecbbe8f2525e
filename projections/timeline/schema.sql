-- The unified customer timeline: one row per event that names a customer.
-- Internal notes are stored with their body withheld (projections/timeline/payloads.py).
--
-- A change to this file changes the projection's layout digest: the projector then
-- rebuilds a new version from offset 0 and swaps it in (services/platform/projection.py),
-- so no migration is written here.

CREATE TABLE IF NOT EXISTS timeline_entries (
    event_source   text        NOT NULL,  -- CloudEvent source, e.g. /crm/sales, urn:shop:loja-1
    event_id       text        NOT NULL,  -- CloudEvent id
    customer_id    text        NOT NULL,  -- whose timeline: the survivor once merged
    named_customer_id text     NOT NULL,  -- the customer the event itself named
    occurred_at    timestamptz NOT NULL,  -- CloudEvent time: when the fact happened
    context        text        NOT NULL,  -- the event class's bounded context (sales, support …)
    origin         text        NOT NULL CHECK (origin IN ('internal', 'external')),
    channel        text        NOT NULL,  -- phone, web, call, email … else the context
    event_type     text        NOT NULL,
    summary        text        NOT NULL,
    actor          text,
    links          jsonb       NOT NULL DEFAULT '{}',
    stream_id      text,
    stream_version integer,
    correlation_id text,
    payload        jsonb       NOT NULL,
    -- The owner and team of the deal the entry is linked to (links.opportunity_id), as
    -- known when projected: readers filter by team on the row itself, without asking
    -- the context that owns deals. NULL for entries of no deal, or of an unknown owner.
    deal_owner     text,
    deal_team      text,
    projected_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Tie-break among entries of the same instant, computed once at insert. Each part is
    -- length-prefixed (or fixed-width), so the key is unique whenever (source, id) is, and
    -- entries of one stream sort by version. Collation "C": byte order, the same everywhere.
    sort_key       text COLLATE "C" NOT NULL GENERATED ALWAYS AS (
        lpad(length(coalesce(stream_id, ''))::text, 3, '0') || coalesce(stream_id, '')
        || lpad(coalesce(stream_version, 0)::text, 10, '0')
        || lpad(length(event_source)::text, 3, '0') || event_source
        || event_id
    ) STORED,
    -- No ON CONFLICT in the projector: the inbox guarantees once, and a duplicate here
    -- would surface as an error instead of hiding an inbox bug.
    PRIMARY KEY (event_source, event_id)
);
-- Keyset pagination per customer: (occurred_at, sort_key) is the cursor, so a page is an
-- index range scan however long the customer's timeline is.
CREATE INDEX IF NOT EXISTS timeline_by_customer
    ON timeline_entries (customer_id, occurred_at, sort_key);

-- Duplicate customers merged into a survivor (RecordsMerged). The merged customer's
-- entries move to the survivor's timeline, and so do entries that name the merged id
-- later (another system may still use it). Chains are kept flat: merged -> final survivor.
CREATE TABLE IF NOT EXISTS customer_merges (
    merged_customer_id   text        PRIMARY KEY,
    survivor_customer_id text        NOT NULL,
    merged_at            timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS customer_merges_by_survivor ON customer_merges (survivor_customer_id);

-- The latest owner and team of each deal (OpportunityOpened, OpportunityAssigned), so
-- that later entries of the deal (stage changes, quotes, orders, activities) carry them.
CREATE TABLE IF NOT EXISTS deal_owners (
    opportunity_id text PRIMARY KEY,
    owner_id       text,
    owner_team     text
);

-- Subjects whose personal data was erased (PersonalDataErased). An entry naming one of
-- them is written erased even when its event was read plain (history from before
-- sealing, or read before the erasure on another topic): what a rebuild writes too.
CREATE TABLE IF NOT EXISTS erased_subjects (
    subject_id text        PRIMARY KEY,
    erased_at  timestamptz NOT NULL
);
