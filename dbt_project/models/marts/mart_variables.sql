{#- The catalog of variables analysts query: unit, publisher, licence, cadence, and how to cite each. -#}
{% set as_of = var('as_of', none) %}
with observations as (
    select * from {{ ref('int_observations__as_of') }}
),

taken_in as (
    select * from {{ ref('int_observations__taken_in') }}
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
        max(period) as last_period
    from observations
    group by publisher, indicator_code
),

-- The newest release of each variable (as of var('as_of')), whether or not it changed a value.
releases as (
    select
        publisher,
        indicator_code,
        max(max_vintage) as latest_vintage
    from taken_in
    {% if as_of %}
        where max_vintage <= cast('{{ as_of }}' as date)
    {% endif %}
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
        releases.latest_vintage,
        sources.publisher_name || ', ' || per_variable.indicator_code || ' (release of '
        || cast(releases.latest_vintage as varchar) || '), ' || sources.base_url
        || '. Retrieved and checked by unionstat; each value''s snapshot is listed in raw.snapshots.' as citation
    from per_variable
    left join releases
        on
            per_variable.publisher = releases.publisher
            and per_variable.indicator_code = releases.indicator_code
    left join sources on per_variable.publisher = sources.publisher
)

select * from final
