{#- Every figure of every release as published: one row per snapshot row of each publisher's observations, in one
    shape, with its provenance (snapshot, URL, origin, fetch time) and vintage (the release it belongs to). A view:
    the vintaged table keeps only the changes; this is where each release's full content stays queryable. -#}
with worldbank as (
    select * from {{ ref('stg_worldbank__observations') }}
),

belstat as (
    select * from {{ ref('stg_belstat__observations') }}
),

wipo as (
    select * from {{ ref('stg_wipo__observations') }}
),

rosstat as (
    select * from {{ ref('stg_rosstat__observations') }}
),

snapshots as (
    select * from {{ ref('stg_unionstat__snapshots') }}
),

worldbank_with_provenance as (
    select
        'worldbank' as publisher,
        worldbank.indicator_code,
        worldbank.country_iso3,
        worldbank.period,
        worldbank.value,
        -- The API sends an empty unit; the indicator name carries it: "GDP growth (annual %)".
        coalesce(
            nullif(worldbank.unit, ''),
            nullif({{ regex_extract('worldbank.indicator_name', "'\\(([^()]*)\\)\\s*$'", 1) }}, '')
        ) as unit,
        snapshots.fetched_at,
        worldbank.snapshot_sha256,
        snapshots.request_url as source_url,
        snapshots.origin,
        coalesce(worldbank.release_date, cast(snapshots.fetched_at as date)) as vintage
    from worldbank
    inner join snapshots
        on
            worldbank.snapshot_sha256 = snapshots.snapshot_sha256
            and snapshots.publisher = 'worldbank'
),

-- Belstat: the cells the registry's selections chose (one file may carry several indicators, and one file fetched
-- for several datasets is one snapshot: its first fetch gives the provenance).
belstat_fetches as (
    select
        snapshots.*,
        row_number() over (
            partition by snapshots.snapshot_sha256 order by snapshots.fetched_at, snapshots.request_url
        ) as fetch_order
    from snapshots
    where snapshots.publisher = 'belstat'
),

belstat_with_provenance as (
    select
        'belstat' as publisher,
        belstat.indicator_code,
        belstat.country_iso3,
        belstat.period,
        belstat.value,
        belstat.unit,
        belstat_fetches.fetched_at,
        belstat.snapshot_sha256,
        belstat_fetches.request_url as source_url,
        belstat_fetches.origin,
        coalesce(belstat.release_date, cast(belstat_fetches.fetched_at as date)) as vintage
    from belstat
    inner join belstat_fetches
        on
            belstat.snapshot_sha256 = belstat_fetches.snapshot_sha256
            and belstat_fetches.fetch_order = 1
),

-- WIPO: origins mapped to ISO3 only (historical codes stay in staging); cells packing several numbers stay out.
wipo_with_provenance as (
    select
        'wipo' as publisher,
        wipo.indicator_code,
        wipo.country_iso3,
        wipo.period,
        wipo.value,
        wipo.unit,
        snapshots.fetched_at,
        wipo.snapshot_sha256,
        snapshots.request_url as source_url,
        snapshots.origin,
        coalesce(wipo.release_date, cast(snapshots.fetched_at as date)) as vintage
    from wipo
    inner join snapshots
        on
            wipo.snapshot_sha256 = snapshots.snapshot_sha256
            and snapshots.publisher = 'wipo'
    where
        wipo.country_iso3 is not null
        and wipo.indicator_code is not null
        and wipo.value is not null
),

-- Rosstat: workbook values only (section-page rows are the file links found); Russia's indices (a year earlier = 100).
rosstat_with_provenance as (
    select
        'rosstat' as publisher,
        rosstat.indicator_code,
        'RUS' as country_iso3,
        rosstat.period,
        rosstat.value,
        rosstat.unit,
        snapshots.fetched_at,
        rosstat.snapshot_sha256,
        snapshots.request_url as source_url,
        snapshots.origin,
        coalesce(snapshots.release_date, cast(snapshots.fetched_at as date)) as vintage
    from rosstat
    inner join snapshots
        on
            rosstat.snapshot_sha256 = snapshots.snapshot_sha256
            and rosstat.indicator_code = snapshots.dataset
            and snapshots.publisher = 'rosstat'
    where
        rosstat.document_kind = 'workbook'
        and rosstat.value is not null
),

final as (
    select * from worldbank_with_provenance
    union all
    select * from belstat_with_provenance
    union all
    select * from wipo_with_provenance
    union all
    select * from rosstat_with_provenance
)

select * from final
