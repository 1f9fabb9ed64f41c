{#- The paper's Table 2 in long form: each metric's value per country and its percent difference, with provenance. -#}
with metrics as (
    select * from {{ ref('paper_table2_metrics') }}
),

-- `not materialized`: read twice (values and ranks); DuckDB otherwise copies all of it first (10M current figures:
-- 0.7 s, where each read joins only the metrics' figures: 0.05 s).
observations as not materialized (
    select * from {{ ref('int_observations__as_of') }}
),

world_ranks as (
    select * from {{ ref('paper_table2_world_ranks') }}
),

loaded_publishers as (
    select distinct publisher from {{ ref('int_observations__vintaged') }}
),

-- each metric's value for each country at the metric's period, as of `as_of`
country_values as (
    select
        metrics.metric_id,
        countries.country_iso3,
        countries.country_order,
        observations.value,
        observations.vintage,
        observations.vintage_label,
        observations.origin,
        observations.snapshot_sha256
    from metrics
    cross join (values ('RUS', 1), ('BLR', 2)) as countries (country_iso3, country_order)
    left join observations
        on
            metrics.publisher = observations.publisher
            and metrics.indicator_code = observations.indicator_code
            and metrics.period = observations.period
            and countries.country_iso3 = observations.country_iso3
),

-- world ranks the paper printed beside a Table 2 figure (Tables 1 and 6), where a publisher ranks it
ranks as (
    select
        world_ranks.metric_id,
        observations.country_iso3,
        cast(observations.value as integer) as world_rank,
        observations.vintage as world_rank_vintage,
        observations.snapshot_sha256 as world_rank_snapshot_sha256
    from world_ranks
    inner join observations
        on
            world_ranks.publisher = observations.publisher
            and world_ranks.indicator_code = observations.indicator_code
            and world_ranks.period = observations.period
),

-- the two countries side by side: what the metric's comparison and status need
pairs as (
    select
        metric_id,
        max(case when country_iso3 = 'RUS' then value end) as russia_value,
        max(case when country_iso3 = 'BLR' then value end) as belarus_value,
        max(case when country_iso3 = 'RUS' then vintage end) as russia_vintage,
        max(case when country_iso3 = 'BLR' then vintage end) as belarus_vintage,
        max(case when country_iso3 = 'RUS' then vintage_label end) as russia_vintage_label,
        max(case when country_iso3 = 'BLR' then vintage_label end) as belarus_vintage_label,
        max(case when country_iso3 = 'RUS' then origin end) as russia_origin,
        max(case when country_iso3 = 'BLR' then origin end) as belarus_origin,
        max(case when country_iso3 = 'RUS' then snapshot_sha256 end) as russia_snapshot_sha256,
        max(case when country_iso3 = 'BLR' then snapshot_sha256 end) as belarus_snapshot_sha256,
        -- compiled from the paper: the figure shown is the paper's own, so it checks nothing against a publisher
        coalesce(bool_or(origin = 'compiled_from_paper'), false) as is_compiled_from_paper
    from country_values
    group by metric_id
),

-- the metric's comparison and status, the same on each of its rows
metric_status as (
    select
        metrics.metric_id,
        metrics.display_order,
        metrics.metric_label,
        metrics.publisher,
        metrics.indicator_code,
        metrics.period,
        metrics.unit,
        metrics.compare,
        pairs.russia_value,
        pairs.belarus_value,
        pairs.russia_vintage,
        pairs.belarus_vintage,
        pairs.russia_vintage_label,
        pairs.belarus_vintage_label,
        pairs.russia_origin,
        pairs.belarus_origin,
        pairs.russia_snapshot_sha256,
        pairs.belarus_snapshot_sha256,
        pairs.is_compiled_from_paper,
        loaded_publishers.publisher is not null as publisher_loaded,
        case
            when pairs.russia_value is null or pairs.belarus_value is null then null
            when pairs.russia_value > pairs.belarus_value then 'Russia'
            when pairs.russia_value < pairs.belarus_value then 'Belarus'
            else 'equal'
        end as higher_in
    from metrics
    inner join pairs on metrics.metric_id = pairs.metric_id
    left join loaded_publishers on metrics.publisher = loaded_publishers.publisher
),

described as (
    select
        *,
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
    from metric_status
),

-- one row per metric and country, and one per metric the paper compares (its percent difference)
figures as (
    select
        country_values.metric_id,
        country_values.country_iso3,
        country_values.country_order,
        'value' as kind,
        country_values.value as metric_value,
        country_values.vintage,
        country_values.vintage_label,
        country_values.origin,
        country_values.snapshot_sha256
    from country_values
    union all
    select
        metric_id,
        cast(null as varchar) as country_iso3,
        3 as country_order,
        'pct_difference' as kind,
        {{ round_to(pct_difference('russia_value', 'belarus_value'), 4) }} as metric_value,
        greatest(russia_vintage, belarus_vintage) as vintage,
        coalesce(russia_vintage_label, belarus_vintage_label) as vintage_label,
        case
            when is_compiled_from_paper then 'compiled_from_paper'
            else coalesce(russia_origin, belarus_origin)
        end as origin,
        coalesce(russia_snapshot_sha256, belarus_snapshot_sha256) as snapshot_sha256
    from described
    where compare = 'pct_difference'
),

final as (
    select
        figures.metric_id,
        described.display_order,
        described.metric_label,
        described.publisher,
        described.indicator_code,
        described.period,
        described.unit,
        figures.country_iso3,
        figures.country_order,
        figures.kind,
        figures.metric_value,
        figures.vintage,
        figures.vintage_label,
        figures.origin,
        described.is_compiled_from_paper,
        figures.snapshot_sha256,
        ranks.world_rank,
        ranks.world_rank_vintage,
        ranks.world_rank_snapshot_sha256,
        described.higher_in,
        described.status,
        described.status_reason,
        figures.metric_id || '/' || coalesce(figures.country_iso3, 'difference') as row_id
    from figures
    inner join described on figures.metric_id = described.metric_id
    left join ranks
        on figures.metric_id = ranks.metric_id and figures.country_iso3 = ranks.country_iso3
)

select * from final
