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

-- `not materialized`: read more than once with a date, and scanning the table again costs less than a copy of it.
with vintaged as not materialized (
    select * from {{ ref('int_observations__vintaged') }}
),

eligible as not materialized (
    select vintaged.*
    from vintaged
    where
        {{ rows_of_figures_taken_in('vintaged') }}
        {% if as_of %}
            and vintaged.vintage <= cast('{{ as_of }}' as date)
        {% else %}
            and vintaged.is_current
        {% endif %}
),

{% if as_of %}
    -- A figure's current row released on or before the date is its newest such row. The figures whose current row
    -- came later are the only ones ranked, over their earlier rows (10M figures, plain DuckDB: 9-11 s ranking them all,
    -- 5-6 s so).
    ranked as (
        select
            eligible.*,
            row_number() over (
                partition by eligible.publisher, eligible.indicator_code, eligible.country_iso3, eligible.period
                order by eligible.vintage desc, eligible.fetched_at desc
            ) as vintage_rank
        from eligible
        where
            not eligible.is_current
            and not exists (
                select 1
                from eligible as current_row
                where current_row.is_current and {{ same_figure('current_row', 'eligible') }}
            )
    ),

    chosen as (
        select {{ observation_columns() }}
        from eligible
        where is_current
        union all
        select {{ observation_columns() }}
        from ranked
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
