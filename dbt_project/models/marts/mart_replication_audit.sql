{#- Each figure the paper printed beside what the warehouse recomputes, with a status and the reason. -#}
with figures as (
    select * from {{ ref('paper_printed_figures') }}
),

table2 as (
    select * from {{ ref('mart_table2_country_comparison') }}
),

printed_inputs as (
    select
        metric_id,
        max(case when country_iso3 = 'RUS' then printed_value end) as printed_russia,
        max(case when country_iso3 = 'BLR' then printed_value end) as printed_belarus
    from figures
    where kind = 'value'
    group by metric_id
),

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
        case
            when figures.kind = 'pct_difference' then table2.pct_difference
            when figures.country_iso3 = 'RUS' then table2.russia_value
            when figures.country_iso3 = 'BLR' then table2.belarus_value
        end as recomputed_value,
        case
            when figures.kind = 'pct_difference'
                then round({{ pct_difference('printed_inputs.printed_russia', 'printed_inputs.printed_belarus') }}, 4)
        end as value_from_printed_inputs,
        case
            when figures.kind = 'pct_difference' then greatest(table2.russia_vintage, table2.belarus_vintage)
            when figures.country_iso3 = 'RUS' then table2.russia_vintage
            when figures.country_iso3 = 'BLR' then table2.belarus_vintage
        end as data_vintage,
        case
            when figures.country_iso3 = 'BLR' then table2.belarus_snapshot_sha256
            else table2.russia_snapshot_sha256
        end as snapshot_sha256,
        table2.publisher,
        table2.status as table2_status,
        table2.status_reason as table2_reason
    from figures
    left join table2 on figures.metric_id = table2.metric_id
    left join printed_inputs on figures.metric_id = printed_inputs.metric_id
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
        publisher,
        snapshot_sha256,
        case
            when recomputed_value is null then 'not reproducible'
            when {{ matches_printed('recomputed_value', 'printed_value', 'printed_decimals') }} then 'match'
            else 'mismatch'
        end as status,
        concat_ws(
            ' ',
            case
                when recomputed_value is null
                    then 'Not reproducible from the warehouse: ' || coalesce(table2_reason, 'no data') || '.'
                when not {{ matches_printed('recomputed_value', 'printed_value', 'printed_decimals') }}
                    then
                        'The ' || publisher || ' release of ' || cast(data_vintage as varchar) || ' gives '
                        || cast(round(recomputed_value, 4) as varchar) || ', not the printed '
                        || cast(printed_value as varchar) || '.'
            end,
            case
                when
                    value_from_printed_inputs is not null
                    and not {{ matches_printed('value_from_printed_inputs', 'printed_value', 'printed_decimals') }}
                    then
                        'The paper''s own printed inputs give ' || cast(round(value_from_printed_inputs, 1) as varchar)
                        || ', not the printed ' || cast(printed_value as varchar) || ' (printed rounding).'
            end,
            note
        ) as explanation
    from recomputed
)

select * from final
