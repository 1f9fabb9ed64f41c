{#- The paper's Table 2 as printed, a row per metric: mart_table2_country_values with the countries side by side. -#}
with figures as (
    select * from {{ ref('mart_table2_country_values') }}
),

pivoted as (
    select
        metric_id,
        display_order,
        metric_label,
        publisher,
        indicator_code,
        period,
        unit,
        higher_in,
        is_compiled_from_paper,
        status,
        status_reason,
        max(case when country_iso3 = 'RUS' then metric_value end) as russia_value,
        max(case when country_iso3 = 'BLR' then metric_value end) as belarus_value,
        max(case when kind = 'pct_difference' then metric_value end) as pct_difference,
        max(case when country_iso3 = 'RUS' then vintage end) as russia_vintage,
        max(case when country_iso3 = 'BLR' then vintage end) as belarus_vintage,
        max(case when country_iso3 = 'RUS' then vintage_label end) as russia_vintage_label,
        max(case when country_iso3 = 'BLR' then vintage_label end) as belarus_vintage_label,
        max(case when country_iso3 = 'RUS' then origin end) as russia_origin,
        max(case when country_iso3 = 'BLR' then origin end) as belarus_origin,
        max(case when country_iso3 = 'RUS' then snapshot_sha256 end) as russia_snapshot_sha256,
        max(case when country_iso3 = 'BLR' then snapshot_sha256 end) as belarus_snapshot_sha256,
        max(case when country_iso3 = 'RUS' then world_rank end) as russia_world_rank,
        max(case when country_iso3 = 'BLR' then world_rank end) as belarus_world_rank,
        max(world_rank_vintage) as world_rank_vintage
    from figures
    group by
        metric_id, display_order, metric_label, publisher, indicator_code, period, unit, higher_in,
        is_compiled_from_paper, status, status_reason
),

-- the columns in the order analysts and the export know
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
        russia_world_rank,
        belarus_world_rank,
        world_rank_vintage,
        status,
        status_reason
    from pivoted
)

select * from final
