{#- Every publisher's observations in one shape, one row per figure and release (vintage). -#}
with worldbank as (
    select * from {{ ref('stg_worldbank__observations') }}
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
        worldbank.unit,
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

all_publishers as (
    select * from worldbank_with_provenance
),

-- The same release can arrive twice (an API page and a bulk CSV): keep the latest fetch of each figure.
final as (
    select *
    from all_publishers
    qualify row_number() over (
        partition by publisher, indicator_code, country_iso3, period, vintage
        order by fetched_at desc, snapshot_sha256 asc
    ) = 1
)

select * from final
