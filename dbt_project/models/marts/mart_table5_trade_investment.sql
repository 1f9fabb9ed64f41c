{#- The paper's Table 5 rebuilt from warehouse data: one row per metric, with the vintage and origin behind each number. -#}
with metrics as (
    select * from {{ ref('paper_table5_metrics') }}
),

observations as (
    select * from {{ ref('int_observations__as_of') }}
),

years as (
    select * from {{ ref('mart_table5_shares_by_year') }}
),

-- r and r² need no distribution function: the statistics model carries them where the Python model is off
correlation as (
    {% if target.type == 'duckdb' -%}
        select * from {{ ref('mart_table5_correlation') }}
    {%- else -%}
        select * from {{ ref('mart_table5_correlation_statistics') }}
    {%- endif %}
),

loaded_publishers as (
    select distinct publisher from {{ ref('int_observations__vintaged') }}
),

snapshot_origins as (
    select distinct
        snapshot_sha256,
        origin
    from {{ ref('stg_unionstat__snapshots') }}
),

-- a share is read at the metric's period, or at the newest period loaded where the paper states none
share_candidates as (
    select
        metrics.metric_id,
        observations.period,
        observations.value as metric_value,
        observations.vintage,
        observations.snapshot_sha256,
        row_number() over (
            partition by metrics.metric_id order by observations.period desc nulls last
        ) as period_rank
    from metrics
    inner join observations
        on
            metrics.publisher = observations.publisher
            and metrics.indicator_code = observations.indicator_code
            and metrics.country_iso3 = observations.country_iso3
            and (metrics.period is null or metrics.period = observations.period)
    where metrics.kind = 'share'
),

shares as (
    select *
    from share_candidates
    where period_rank = 1
),

changes as (
    select
        metrics.metric_id,
        years.period,
        years.trade_share_yoy_change_pp as metric_value,
        years.trade_vintage as vintage,
        years.trade_snapshot_sha256 as snapshot_sha256
    from metrics
    inner join years on metrics.period = years.period
    where metrics.kind = 'yoy_change_pp' and years.trade_share_yoy_change_pp is not null
),

correlations as (
    select
        metrics.metric_id,
        correlation.paired_years as period,
        correlation.status_reason,
        case metrics.kind when 'pearson_r' then correlation.r else correlation.r_squared end as metric_value
    from metrics
    cross join correlation
    where metrics.kind in ('pearson_r', 'r_squared')
),

joined as (
    select
        metrics.metric_id,
        metrics.display_order,
        metrics.metric_label,
        metrics.kind,
        metrics.publisher,
        metrics.printed_text,
        correlations.status_reason as correlation_reason,
        snapshot_origins.origin,
        coalesce(shares.period, changes.period, correlations.period, metrics.period) as period,
        coalesce(shares.metric_value, changes.metric_value, correlations.metric_value) as metric_value,
        coalesce(shares.vintage, changes.vintage) as vintage,
        coalesce(shares.snapshot_sha256, changes.snapshot_sha256) as snapshot_sha256,
        loaded_publishers.publisher is not null as publisher_loaded,
        metrics.period is null and metrics.kind = 'share' as period_not_stated
    from metrics
    left join shares on metrics.metric_id = shares.metric_id
    left join changes on metrics.metric_id = changes.metric_id
    left join correlations on metrics.metric_id = correlations.metric_id
    left join loaded_publishers on metrics.publisher = loaded_publishers.publisher
    left join snapshot_origins
        on coalesce(shares.snapshot_sha256, changes.snapshot_sha256) = snapshot_origins.snapshot_sha256
),

final as (
    select
        metric_id,
        display_order,
        metric_label,
        kind,
        publisher,
        period,
        metric_value,
        printed_text,
        vintage,
        snapshot_sha256,
        origin,
        case
            when not publisher_loaded then 'pending'
            when metric_value is not null then 'computed'
            when kind in ('pearson_r', 'r_squared') then 'not computable'
            else 'no data'
        end as status,
        case
            when not publisher_loaded
                then 'no ' || publisher || ' data in the warehouse yet: its connector has not loaded any snapshot'
            when metric_value is null and kind in ('pearson_r', 'r_squared') then correlation_reason
            when metric_value is null and kind = 'yoy_change_pp'
                then 'no trade share for both ' || period || ' and the year before in the loaded releases'
            when metric_value is null then 'no ' || publisher || ' value for this share in the loaded releases'
            when period_not_stated and period is null then 'neither the paper nor the loaded observation states a year'
            when period_not_stated then 'the paper states no year: the newest period loaded (' || period || ') is shown'
        end as status_reason
    from joined
)

select * from final
