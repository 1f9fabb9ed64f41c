{#- The figure as known on var('as_of'): the newest vintage released on or before that date (or the newest). -#}
{% set as_of = var('as_of', none) %}
{#- A table: every statistics mart reads it, so the window over all vintages runs once per build. -#}
{{ config(materialized='table') }}

with vintaged as (
    select * from {{ ref('int_observations__vintaged') }}
),

eligible as (
    select *
    from vintaged
    {% if as_of %}
        where vintage <= cast('{{ as_of }}' as date)
    {% endif %}
),

ranked as (
    select
        *,
        row_number() over (
            partition by publisher, indicator_code, country_iso3, period
            order by vintage desc, fetched_at desc
        ) as vintage_rank
    from eligible
),

-- int_observations__vintaged's columns (listed: `qualify` and `select * exclude` are DuckDB's)
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
        vintage
    from ranked
    where vintage_rank = 1
)

select * from final
