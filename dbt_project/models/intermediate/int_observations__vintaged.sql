{#- Every publisher's observations in one shape, one row per figure and release (vintage).
    Incremental: a build reads only the rows of snapshots this table has not taken in yet, and settles each
    figure-and-vintage they touch against the rows already here, by the same rule as a full build. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['publisher', 'indicator_code', 'country_iso3', 'period', 'vintage'],
) }}

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

belstat_with_provenance as (
    select
        'belstat' as publisher,
        belstat.indicator_code,
        belstat.country_iso3,
        belstat.period,
        belstat.value,
        belstat.unit,
        snapshots.fetched_at,
        belstat.snapshot_sha256,
        snapshots.request_url as source_url,
        snapshots.origin,
        coalesce(belstat.release_date, cast(snapshots.fetched_at as date)) as vintage
    from belstat
    inner join snapshots
        on
            belstat.snapshot_sha256 = snapshots.snapshot_sha256
            and belstat.indicator_code = snapshots.dataset
            and snapshots.publisher = 'belstat'
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

all_publishers as (
    select * from worldbank_with_provenance
    union all
    select * from belstat_with_provenance
    union all
    select * from wipo_with_provenance
    union all
    select * from rosstat_with_provenance
),

{% if is_incremental() %}
    -- Snapshots this table has already taken in.
    taken_in as (
        select distinct held.snapshot_sha256 from {{ this }} as held
    ),
{% endif %}

-- Rows of snapshots not taken in yet (all of them in a full build).
incoming as (
    select * from all_publishers
    {% if is_incremental() %}
        where snapshot_sha256 not in (select taken_in.snapshot_sha256 from taken_in)
    {% endif %}
),

{% if is_incremental() %}
    -- The figures and vintages the incoming rows touch, as this table holds them now.
    touched as (
        select distinct
            publisher,
            indicator_code,
            country_iso3,
            period,
            vintage
        from incoming
    ),

    existing_touched as (
        select {{ observation_columns('held') }}
        from {{ this }} as held
        inner join touched
            on
                held.publisher = touched.publisher
                and held.indicator_code = touched.indicator_code
                and held.country_iso3 = touched.country_iso3
                and held.period = touched.period
                and held.vintage = touched.vintage
    ),
{% endif %}

candidates as (
    select * from incoming
    {% if is_incremental() %}
        union all
        select * from existing_touched
    {% endif %}
),

-- The same release can arrive twice (an API page and a bulk CSV): keep the latest fetch of each figure.
ranked as (
    select
        *,
        row_number() over (
            partition by publisher, indicator_code, country_iso3, period, vintage
            order by fetched_at desc, snapshot_sha256 asc
        ) as fetch_rank
    from candidates
),

final as (
    select
        {{ observation_columns() }},
        {{ build_stamp() }} as taken_in_at
    from ranked
    where fetch_rank = 1
)

select * from final
