{#- The paper's Table 2 rebuilt from warehouse data, with the vintage and snapshot behind every number. -#}
with metrics as (
    select * from {{ ref('paper_table2_metrics') }}
),

observations as (
    select * from {{ ref('int_observations__as_of') }}
),

loaded_publishers as (
    select distinct publisher from {{ ref('int_observations__vintaged') }}
),

russia as (
    select * from observations
    where country_iso3 = 'RUS'
),

belarus as (
    select * from observations
    where country_iso3 = 'BLR'
),

joined as (
    select
        metrics.metric_id,
        metrics.display_order,
        metrics.metric_label,
        metrics.publisher,
        metrics.indicator_code,
        metrics.period,
        metrics.unit,
        metrics.compare,
        russia.value as russia_value,
        belarus.value as belarus_value,
        russia.vintage as russia_vintage,
        belarus.vintage as belarus_vintage,
        russia.snapshot_sha256 as russia_snapshot_sha256,
        belarus.snapshot_sha256 as belarus_snapshot_sha256,
        loaded_publishers.publisher is not null as publisher_loaded
    from metrics
    left join russia
        on
            metrics.publisher = russia.publisher
            and metrics.indicator_code = russia.indicator_code
            and metrics.period = russia.period
    left join belarus
        on
            metrics.publisher = belarus.publisher
            and metrics.indicator_code = belarus.indicator_code
            and metrics.period = belarus.period
    left join loaded_publishers
        on metrics.publisher = loaded_publishers.publisher
),

compared as (
    select
        *,
        case
            when compare = 'pct_difference'
                then round({{ pct_difference('russia_value', 'belarus_value') }}, 4)
        end as pct_difference,
        case
            when russia_value is null or belarus_value is null then null
            when russia_value > belarus_value then 'Russia'
            when russia_value < belarus_value then 'Belarus'
            else 'equal'
        end as higher_in
    from joined
),

final as (
    select
        metric_id,
        display_order,
        metric_label,
        publisher,
        indicator_code,
        period,
        unit,
        russia_value,
        belarus_value,
        pct_difference,
        higher_in,
        russia_vintage,
        belarus_vintage,
        russia_snapshot_sha256,
        belarus_snapshot_sha256,
        case
            when not publisher_loaded then 'pending'
            when russia_value is null and belarus_value is null then 'no data'
            when compare = 'pct_difference' and (russia_value is null or belarus_value is null) then 'partial'
            else 'computed'
        end as status,
        case
            when not publisher_loaded
                then 'no ' || publisher || ' data in the warehouse yet: its connector has not loaded any snapshot'
            when period is null
                then 'the paper states no period for this figure'
            when russia_value is null and belarus_value is null
                then publisher || ' publishes no ' || indicator_code || ' for ' || period || ' in the loaded releases'
            when compare = 'pct_difference' and russia_value is null
                then 'no Russian value for ' || period
            when compare = 'pct_difference' and belarus_value is null
                then 'no Belarusian value for ' || period
        end as status_reason
    from compared
)

select * from final
