{#- GDP growth of Russia and Belarus in every release loaded: a line per country and vintage for the report's chart. -#}
with published as (
    select * from {{ ref('int_observations__published') }}
),

-- a release that arrived twice (two snapshots) counts once: its latest fetch
ranked as (
    select
        country_iso3,
        period,
        vintage,
        value,
        snapshot_sha256,
        row_number() over (
            partition by country_iso3, period, vintage order by fetched_at desc, snapshot_sha256 asc
        ) as fetch_rank
    from published
    where indicator_code = 'NY.GDP.MKTP.KD.ZG' and country_iso3 in ('RUS', 'BLR')
),

final as (
    select
        country_iso3,
        period,
        vintage,
        value,
        snapshot_sha256
    from ranked
    where fetch_rank = 1
)

select * from final
