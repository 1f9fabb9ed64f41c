{#- The country dimension analysts join observations to: the newest World Bank metadata of each economy. -#}
with countries as (
    select * from {{ ref('stg_worldbank__countries') }}
),

snapshots as (
    select * from {{ ref('stg_unionstat__snapshots') }}
),

dated as (
    select
        countries.*,
        snapshots.fetched_at,
        snapshots.origin
    from countries
    inner join snapshots on countries.snapshot_sha256 = snapshots.snapshot_sha256
),

newest as (
    select
        *,
        row_number() over (
            partition by country_iso3 order by fetched_at desc, snapshot_sha256 asc
        ) as newest_rank
    from dated
),

final as (
    select
        country_iso3,
        country_name,
        region,
        income_group,
        special_notes,
        origin,
        snapshot_sha256,
        region is null and income_group is null as is_aggregate
    from newest
    where newest_rank = 1
)

select * from final
