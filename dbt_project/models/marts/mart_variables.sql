{#- The catalog of variables analysts query: unit, publisher, licence, cadence, and how to cite each. -#}
with observations as (
    select * from {{ ref('int_observations__vintaged') }}
),

sources as (
    select * from {{ ref('stg_unionstat__sources') }}
),

per_variable as (
    select
        publisher,
        indicator_code,
        string_agg(distinct unit, '; ' order by unit) as units,
        count(*) as observations,
        count(distinct country_iso3) as countries,
        min(period) as first_period,
        max(period) as last_period,
        max(vintage) as latest_vintage
    from observations
    group by publisher, indicator_code
),

final as (
    select
        per_variable.publisher,
        per_variable.indicator_code,
        per_variable.units,
        sources.publisher_name,
        sources.licence,
        sources.release_cadence,
        per_variable.observations,
        per_variable.countries,
        per_variable.first_period,
        per_variable.last_period,
        per_variable.latest_vintage,
        sources.publisher_name || ', ' || per_variable.indicator_code || ' (release of '
        || cast(per_variable.latest_vintage as varchar) || '), ' || sources.base_url
        || '. Retrieved and checked by unionstat; each value''s snapshot is listed in raw.snapshots.' as citation
    from per_variable
    left join sources on per_variable.publisher = sources.publisher
)

select * from final
