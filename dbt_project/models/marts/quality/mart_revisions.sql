{#- Every change of a published figure between two consecutive vintages. Incremental: a build recomputes only
    the figures it took in. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ delete_figures_taken_in() }}",
) }}
{% set large_relative = 0.05 %}

with all_vintages as (
    select * from {{ ref('int_observations__vintaged') }}
),

vintaged as not materialized (
    select all_vintages.*
    from all_vintages
    where {{ rows_of_figures_taken_in('all_vintages') }}
),

-- A figure with one row has no revision. A figure with several has one current row (its newest: the test
-- one_current_row_per_figure holds int_observations__vintaged to that) and the rest not current (`earlier`), so
-- in a full build the figures with a row not current are the only ones the window below needs to sort: a few of
-- 10M figures. An incremental build reads only the figures it took in, and sorts them all.
several as (
    select vintaged.*
    from vintaged
    {% if not is_incremental() %}
        where exists (
            select 1
            from vintaged as earlier
            where not earlier.is_current and {{ same_figure('earlier', 'vintaged') }}
        )
    {% endif %}
),

sequenced as (
    select
        publisher,
        indicator_code,
        country_iso3,
        period,
        unit,
        vintage,
        value,
        snapshot_sha256,
        lag(vintage) over figure as previous_vintage,
        lag(value) over figure as previous_value,
        lag(snapshot_sha256) over figure as previous_snapshot_sha256
    from several
    window figure as (partition by publisher, indicator_code, country_iso3, period order by vintage)
),

final as (
    select
        publisher,
        indicator_code,
        country_iso3,
        period,
        unit,
        previous_vintage,
        vintage,
        previous_value,
        value,
        value - previous_value as value_change,
        case
            when previous_value is null or previous_value = 0 then null
            else (value - previous_value) / abs(previous_value)
        end as relative_change,
        coalesce(
            previous_value is null
            or value is null
            or previous_value = 0
            or abs(value - previous_value) / abs(previous_value) > {{ large_relative }},
            false
        ) as is_large,
        previous_snapshot_sha256,
        snapshot_sha256
    from sequenced
    where
        previous_vintage is not null
        and {{ value_revised("value", "previous_value") }}
)

select * from final
