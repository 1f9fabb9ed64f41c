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

-- The same bytes can be stored under two datasets or URLs (raw.snapshots has a row each) but load once: each
-- snapshot's provenance is its first fetch (fetch_order = 1), so no row is counted twice.
first_fetches as (
    select
        publisher,
        snapshot_sha256,
        dataset,
        fetched_at,
        request_url,
        origin,
        release_date,
        row_number() over (
            partition by publisher, snapshot_sha256 order by fetched_at asc, dataset asc, request_url asc
        ) as fetch_order
    from snapshots
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
        first_fetches.fetched_at,
        worldbank.snapshot_sha256,
        first_fetches.request_url as source_url,
        first_fetches.origin,
        coalesce(worldbank.release_date, cast(first_fetches.fetched_at as date)) as vintage
    from worldbank
    inner join first_fetches
        on
            worldbank.snapshot_sha256 = first_fetches.snapshot_sha256
            and first_fetches.publisher = 'worldbank'
            and first_fetches.fetch_order = 1
),

-- Belstat: the cells the registry's selections chose (one file may carry several indicators).
belstat_with_provenance as (
    select
        'belstat' as publisher,
        belstat.indicator_code,
        belstat.country_iso3,
        belstat.period,
        belstat.value,
        belstat.unit,
        first_fetches.fetched_at,
        belstat.snapshot_sha256,
        first_fetches.request_url as source_url,
        first_fetches.origin,
        coalesce(belstat.release_date, cast(first_fetches.fetched_at as date)) as vintage
    from belstat
    inner join first_fetches
        on
            belstat.snapshot_sha256 = first_fetches.snapshot_sha256
            and first_fetches.publisher = 'belstat'
            and first_fetches.fetch_order = 1
),

-- WIPO: origins mapped to ISO3 only (historical codes stay in staging); cells packing several numbers stay out;
-- the paper's indicators only (an export is loaded whole). Vintage: the export's "Last updated", else the fetch's
-- release date (the Last-Modified of a recording compiled from the paper), else the fetch date.
wipo_with_provenance as (
    select
        'wipo' as publisher,
        wipo.indicator_code,
        wipo.country_iso3,
        wipo.period,
        wipo.value,
        wipo.unit,
        first_fetches.fetched_at,
        wipo.snapshot_sha256,
        first_fetches.request_url as source_url,
        first_fetches.origin,
        coalesce(wipo.release_date, first_fetches.release_date, cast(first_fetches.fetched_at as date))
            as vintage
    from wipo
    inner join first_fetches
        on
            wipo.snapshot_sha256 = first_fetches.snapshot_sha256
            and first_fetches.publisher = 'wipo'
            and first_fetches.fetch_order = 1
    where
        wipo.country_iso3 is not null
        and wipo.indicator_code is not null
        and wipo.value is not null
),

-- Rosstat: the cells the registry's selections chose (stg_rosstat__observations); the file's own update stamp
-- ("Обновлено ...") dates the vintage where it has one.
rosstat_with_provenance as (
    select
        'rosstat' as publisher,
        rosstat.indicator_code,
        rosstat.country_iso3,
        rosstat.period,
        rosstat.value,
        rosstat.unit,
        first_fetches.fetched_at,
        rosstat.snapshot_sha256,
        first_fetches.request_url as source_url,
        first_fetches.origin,
        coalesce(rosstat.release_date, first_fetches.release_date, cast(first_fetches.fetched_at as date)) as vintage
    from rosstat
    inner join first_fetches
        on
            rosstat.snapshot_sha256 = first_fetches.snapshot_sha256
            and first_fetches.publisher = 'rosstat'
            and first_fetches.fetch_order = 1
),

unioned as (
    select * from worldbank_with_provenance
    union all
    select * from belstat_with_provenance
    union all
    select * from wipo_with_provenance
    union all
    select * from rosstat_with_provenance
),

-- What each number is (its origin) decides what its vintage may claim: a figure compiled from the paper is "as
-- printed in the paper" (dated by the paper's publication, var paper_published), never a publisher's release.
final as (
    select
        publisher,
        indicator_code,
        country_iso3,
        period,
        value,
        unit,
        fetched_at,
        snapshot_sha256,
        source_url,
        origin,
        case
            when origin = 'compiled_from_paper' then cast('{{ var("paper_published") }}' as date)
            else vintage
        end as vintage,
        case
            when origin = 'compiled_from_paper'
                then 'as printed in the paper ({{ var("paper_published")[:7] }})'
            -- no release date in the bytes or the response: the vintage falls back to the day the bytes came in
            when vintage = cast(fetched_at as date)
                then 'no release date stated (taken in ' || cast(vintage as varchar) || ')'
            else 'release ' || cast(vintage as varchar)
        end as vintage_label
    from unioned
)

select * from final
