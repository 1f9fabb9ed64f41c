{#- The paper's Table 2 rebuilt from warehouse data, with the origin, vintage and snapshot behind every number. -#}
with metrics as (
    select * from {{ ref('paper_table2_metrics') }}
),

observations as (
    select * from {{ ref('int_observations__as_of') }}
),

world_ranks as (
    select * from {{ ref('paper_table2_world_ranks') }}
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

-- world ranks the paper printed beside a Table 2 figure (Tables 1 and 6), where a publisher ranks it
ranks as (
    select
        world_ranks.metric_id,
        max(case when observations.country_iso3 = 'RUS' then observations.value end) as russia_world_rank,
        max(case when observations.country_iso3 = 'BLR' then observations.value end) as belarus_world_rank,
        max(observations.vintage) as world_rank_vintage
    from world_ranks
    inner join observations
        on
            world_ranks.publisher = observations.publisher
            and world_ranks.indicator_code = observations.indicator_code
            and world_ranks.period = observations.period
    group by world_ranks.metric_id
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
        russia.vintage_label as russia_vintage_label,
        belarus.vintage_label as belarus_vintage_label,
        russia.origin as russia_origin,
        belarus.origin as belarus_origin,
        russia.snapshot_sha256 as russia_snapshot_sha256,
        belarus.snapshot_sha256 as belarus_snapshot_sha256,
        ranks.russia_world_rank,
        ranks.belarus_world_rank,
        ranks.world_rank_vintage,
        loaded_publishers.publisher is not null as publisher_loaded,
        -- compiled from the paper: the figure shown is the paper's own, so it checks nothing against a publisher
        coalesce(russia.origin = 'compiled_from_paper' or belarus.origin = 'compiled_from_paper', false)
            as is_compiled_from_paper
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
    left join ranks
        on metrics.metric_id = ranks.metric_id
),

compared as (
    select
        *,
        case
            when compare = 'pct_difference'
                then {{ round_to(pct_difference('russia_value', 'belarus_value'), 4) }}
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
        russia_vintage_label,
        belarus_vintage_label,
        russia_origin,
        belarus_origin,
        is_compiled_from_paper,
        russia_snapshot_sha256,
        belarus_snapshot_sha256,
        cast(russia_world_rank as integer) as russia_world_rank,
        cast(belarus_world_rank as integer) as belarus_world_rank,
        world_rank_vintage,
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
