{#- The figure as known on var('as_of'): its value in the newest vintage released on or before that date, or its
    current value. `vintage` is the release that published this value (a later release may have repeated it). -#}
{% set as_of = var('as_of', none) %}
{#- Materialised: every statistics mart reads it. Without a date it is the current rows; with one, a window over
    the vintages up to that date runs once per build. Incremental: a build recomputes only the figures it took in (a
    change of as_of is a full build: flows.refresh). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_figures_taken_in() }}",
) }}

with vintaged as (
    select * from {{ ref('int_observations__vintaged') }}
),

{% if is_incremental() %}
    taken_in as (
        {{ figures_taken_in() }}
    ),
{% endif %}

eligible as (
    select vintaged.*
    from vintaged
    {% if is_incremental() %}
        inner join taken_in
            on {{ same_figure('vintaged', 'taken_in') }}
    {% endif %}
    {% if as_of %}
        where vintaged.vintage <= cast('{{ as_of }}' as date)
    {% else %}
        where vintaged.is_current
    {% endif %}
),

{% if as_of %}
    ranked as (
        select
            *,
            row_number() over (
                partition by publisher, indicator_code, country_iso3, period
                order by vintage desc, fetched_at desc
            ) as vintage_rank
        from eligible
    ),

    chosen as (
        select * from ranked
        where vintage_rank = 1
    ),
{% else %}
    chosen as (
        select * from eligible
    ),
{% endif %}

-- int_observations__vintaged's columns but its flag; the build stamp is this build's
final as (
    select
        {{ observation_columns() }},
        {{ build_stamp() }} as taken_in_at
    from chosen
)

select * from final
