{#- Each figure the paper printed (Tables 2-5, abstract) beside what the warehouse recomputes, with a status and why. -#}
with figures as (
    select * from {{ ref('paper_printed_figures') }}
),

explanations as (
    select * from {{ ref('paper_figure_explanations') }}
),

table2 as (
    select * from {{ ref('mart_table2_country_values') }}
),

table3 as (
    select * from {{ ref('mart_table3_joint_initiatives') }}
),

-- the chi-square p-value needs a distribution function: scipy, in a Python model that only DuckDB runs
table4 as (
    {% if target.type == 'duckdb' -%}
        select
            *,
            cast(null as varchar) as p_value_reason
        from {{ ref('mart_table4_uniformity_test') }}
    {%- else -%}
        select
            *,
            cast(null as double precision) as p_value,
            'the chi-square p-value is computed by a Python model (scipy) that runs on DuckDB only, not on '
            || '{{ target.type }}' as p_value_reason
        from {{ ref('mart_table4_uniformity_statistics') }}
    {%- endif %}
),

table5 as (
    select * from {{ ref('mart_table5_trade_investment') }}
),

published as (
    select * from {{ ref('int_observations__published') }}
),

table2_metrics as (
    select * from {{ ref('paper_table2_metrics') }}
),

snapshot_origins as (
    select distinct
        snapshot_sha256,
        origin
    from {{ ref('stg_unionstat__snapshots') }}
),

-- Every loaded publisher release (not the paper's own figures) of each Table 2 metric: a row per country and release.
table2_releases as (
    select distinct
        table2_metrics.metric_id,
        published.country_iso3,
        published.publisher,
        published.vintage,
        published.vintage_label,
        published.value
    from table2_metrics
    inner join published
        on
            table2_metrics.publisher = published.publisher
            and table2_metrics.indicator_code = published.indicator_code
            and table2_metrics.period = published.period
    where published.origin != 'compiled_from_paper' and published.country_iso3 in ('RUS', 'BLR')
),

-- Each release's figures in Table 2's long shape: the value per country, and the percent difference.
release_figures as (
    select
        metric_id,
        country_iso3,
        'value' as kind,
        publisher,
        vintage,
        vintage_label,
        value as figure_value
    from table2_releases
    union all
    select
        metric_id,
        cast(null as varchar) as country_iso3,
        'pct_difference' as kind,
        publisher,
        vintage,
        vintage_label,
        {{ pct_difference(
            "max(case when country_iso3 = 'RUS' then value end)",
            "max(case when country_iso3 = 'BLR' then value end)") }} as figure_value
    from table2_releases
    group by metric_id, publisher, vintage, vintage_label
),

-- Which loaded releases reproduce each printed Table 2 figure at the printed precision.
reproducing_releases as (
    select
        figure_id,
        string_agg(publisher || ' ' || vintage_label, '; ' order by vintage) as reproduced_by
    from (
        select distinct
            figures.figure_id,
            release_figures.publisher,
            release_figures.vintage,
            release_figures.vintage_label
        from figures
        inner join release_figures
            on
                figures.metric_id = release_figures.metric_id
                and figures.kind = release_figures.kind
                and figures.country_iso3 is not distinct from release_figures.country_iso3
        where {{ matches_printed('release_figures.figure_value', 'figures.printed_value', 'figures.printed_decimals') }}
    ) as reproducing
    group by figure_id
),

printed_inputs as (
    select
        metric_id,
        max(case when kind = 'value' and country_iso3 = 'RUS' then printed_value end) as printed_russia,
        max(case when kind = 'value' and country_iso3 = 'BLR' then printed_value end) as printed_belarus
    from figures
    group by metric_id
),

printed_r as (
    select max(printed_value) as printed_r
    from figures
    where kind = 'pearson_r' and paper_table = 'Table 5'
),

-- Table 3 per sector and in total; its figures are computed from the paper's own printed counts
table3_with_total as (
    select
        sector_id as metric_id,
        cast(initiative_count as double precision) as initiative_count,
        share_pct
    from table3
    union all
    select
        'all_sectors' as metric_id,
        cast(sum(initiative_count) as double precision) as initiative_count,
        100.0 * sum(initiative_count) / sum(initiative_count) as share_pct
    from table3
),

table3_measures as (
    select
        table3_with_total.metric_id,
        kinds.kind,
        case kinds.kind
            when 'sector_count' then table3_with_total.initiative_count
            else table3_with_total.share_pct
        end as recomputed_value
    from table3_with_total
    cross join (values ('sector_count'), ('sector_share')) as kinds (kind)
),

-- Table 4 computed from Table 3's printed counts
table4_measures as (
    select
        table4.test_id as metric_id,
        kinds.kind,
        case kinds.kind
            when 'expected_frequency' then table4.expected_frequency
            when 'degrees_of_freedom' then table4.df
            when 'chi_square_statistic' then table4.statistic
            else {{ round_to('table4.p_value', 4) }}
        end as recomputed_value,
        case when kinds.kind = 'p_value' then table4.p_value_reason end as reason
    from table4
    cross join (
        values ('expected_frequency'), ('degrees_of_freedom'), ('chi_square_statistic'), ('p_value')
    ) as kinds (kind)
),

-- Tables 2-5 in one long shape: (metric_id, kind, country) -> the recomputed value and what it was computed from.
-- Table 3 and 4 figures come from the paper's own printed counts, so both values are the same there.
measures as (
    select
        table2.metric_id,
        table2.kind,
        table2.country_iso3,
        table2.metric_value as recomputed_value,
        case
            when table2.kind = 'pct_difference'
                then {{ round_to(pct_difference('printed_inputs.printed_russia', 'printed_inputs.printed_belarus'), 4) }}
        end as value_from_printed_inputs,
        table2.vintage as data_vintage,
        table2.vintage_label,
        table2.origin,
        table2.publisher,
        table2.snapshot_sha256,
        table2.status_reason as reason
    from table2
    left join printed_inputs on table2.metric_id = printed_inputs.metric_id
    union all
    select
        metric_id,
        kind,
        cast(null as varchar) as country_iso3,
        recomputed_value,
        recomputed_value as value_from_printed_inputs,
        cast(null as date) as data_vintage,
        cast(null as varchar) as vintage_label,
        cast(null as varchar) as origin,
        'paper' as publisher,
        cast(null as varchar) as snapshot_sha256,
        cast(null as varchar) as reason
    from table3_measures
    union all
    select
        metric_id,
        kind,
        cast(null as varchar) as country_iso3,
        recomputed_value,
        recomputed_value as value_from_printed_inputs,
        cast(null as date) as data_vintage,
        cast(null as varchar) as vintage_label,
        cast(null as varchar) as origin,
        'paper' as publisher,
        cast(null as varchar) as snapshot_sha256,
        reason
    from table4_measures
    union all
    select
        table5.metric_id,
        table5.kind,
        cast(null as varchar) as country_iso3,
        table5.metric_value as recomputed_value,
        case when table5.kind = 'r_squared' then {{ round_to('power(printed_r.printed_r, 2)', 4) }} end
            as value_from_printed_inputs,
        table5.vintage as data_vintage,
        cast(null as varchar) as vintage_label,
        cast(null as varchar) as origin,
        table5.publisher,
        table5.snapshot_sha256,
        table5.status_reason as reason
    from table5
    cross join printed_r
),

-- Each printed figure beside its measure: one join (a measure without a country serves every country).
recomputed as (
    select
        figures.figure_id,
        figures.paper_table,
        figures.metric_id,
        figures.country_iso3,
        figures.kind,
        figures.printed_text,
        figures.printed_value,
        figures.printed_decimals,
        figures.note,
        explanations.explanation as known_explanation,
        measures.recomputed_value,
        measures.value_from_printed_inputs,
        measures.data_vintage,
        measures.vintage_label,
        measures.origin,
        measures.snapshot_sha256,
        measures.publisher,
        measures.reason
    from figures
    left join measures
        on
            figures.metric_id = measures.metric_id
            and figures.kind = measures.kind
            and (measures.country_iso3 is null or figures.country_iso3 = measures.country_iso3)
    left join explanations on figures.figure_id = explanations.figure_id
),

-- What each recomputed figure was compared with: its data's origin, and in words.
compared as (
    select
        recomputed.*,
        reproducing_releases.reproduced_by,
        case
            when recomputed.publisher = 'paper' then 'paper_counts'
            else coalesce(recomputed.origin, snapshot_origins.origin)
        end as data_origin
    from recomputed
    left join snapshot_origins on recomputed.snapshot_sha256 = snapshot_origins.snapshot_sha256
    left join reproducing_releases on recomputed.figure_id = reproducing_releases.figure_id
),

described as (
    select
        *,
        case
            when recomputed_value is null then 'nothing: no data to recompute it from'
            when data_origin = 'paper_counts' then 'the paper''s own printed counts, recomputed'
            when data_origin = 'compiled_from_paper'
                then 'the paper''s own figure (compiled from the paper): checked against no publisher'
            else
                publisher || ' ' || coalesce(vintage_label, 'release ' || cast(data_vintage as varchar))
                || case data_origin
                    when 'recorded_third_party' then ' (a real file, recorded by a third party)'
                    when 'imported' then ' (a file imported by hand)'
                    when 'fetched' then ' (fetched by unionstat)'
                    when 'synthetic' then ' (a synthetic test fixture)'
                    else ''
                end
        end as compared_with
    from compared
),

final as (
    select
        figure_id,
        paper_table,
        metric_id,
        country_iso3,
        kind,
        printed_text,
        printed_value,
        recomputed_value,
        value_from_printed_inputs,
        data_vintage,
        data_origin,
        compared_with,
        reproduced_by,
        publisher,
        snapshot_sha256,
        case
            when recomputed_value is null then 'not reproducible'
            when data_origin = 'compiled_from_paper' then 'paper only'
            when {{ matches_printed('recomputed_value', 'printed_value', 'printed_decimals') }} then 'match'
            when known_explanation is not null then 'explained'
            else 'mismatch'
        end as status,
        concat_ws(
            ' ',
            case
                when recomputed_value is null
                    then 'Not reproducible from the warehouse: ' || coalesce(reason, 'no data') || '.'
                when data_origin = 'compiled_from_paper'
                    then
                        'Only the paper''s own figure is loaded (compiled from the paper): it agrees with itself and '
                        || 'checks nothing; load the publisher''s release to check it.'
                when not {{ matches_printed('recomputed_value', 'printed_value', 'printed_decimals') }}
                    then
                        'The ' || publisher
                        || coalesce(
                            ' ' || replace(vintage_label, 'release ', 'release of '),
                            ' release of ' || cast(data_vintage as varchar),
                            '''s printed inputs'
                        )
                        || ' give' || case when data_vintage is null then '' else 's' end || ' '
                        || {{ number_text(round_to('recomputed_value', 'printed_decimals + 2')) }} || ', not the printed '
                        || {{ number_text('printed_value') }} || '.'
            end,
            case
                when
                    value_from_printed_inputs is not null
                    and recomputed_value is distinct from value_from_printed_inputs
                    and not {{ matches_printed('value_from_printed_inputs', 'printed_value', 'printed_decimals') }}
                    then
                        'The paper''s own printed inputs give '
                        || {{ number_text(round_to('value_from_printed_inputs', 'printed_decimals + 1')) }}
                        || ', not the printed ' || {{ number_text('printed_value') }} || ' (printed rounding).'
            end,
            note,
            known_explanation
        ) as explanation
    from described
)

select * from final
