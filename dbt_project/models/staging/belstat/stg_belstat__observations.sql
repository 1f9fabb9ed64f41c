{#- The paper's indicators out of Belstat tables loaded whole: a cell is an observation of an indicator when its
    sheet, title, row label, row code and column header match that indicator's selection in the registry
    (scrapers/sources.json "selections"; a null pattern matches anything). -#}
with cells as (
    select * from {{ ref('stg_belstat__cells') }}
),

selections as (
    select * from {{ ref('stg_unionstat__selections') }}
    where publisher = 'belstat'
),

chosen as (
    select
        cells.*,
        selections.indicator_code,
        selections.country_iso3
    from cells
    inner join selections
        on {{ matches_selection('cells', 'selections') }}
),

final as (
    select
        snapshot_sha256,
        snapshot_row,
        indicator_code,
        country_iso3,
        period,
        value,
        value_text,
        unit as unit_text,
        sheet_name,
        cell_ref,
        row_label,
        column_header,
        period_text,
        notes,
        table_title,
        table_notes,
        file_format,
        text_encoding,
        release_date,
        -- Belstat's symbols in place of a number: '-' none, '...' not available, 'x' not meaningful.
        case
            when value is not null then null
            when trim(value_text) in ('-', '–', '—') then '-'
            when trim(value_text) in ('…', '...') then '...'
            when trim(value_text) in ('x', 'х') then 'x'
        end as value_symbol,
        -- lower() follows the database locale (ASCII only under C): case-insensitive patterns are spelled out.
        case
            when {{ regex_contains('unit', "'к итогу'") }} then 'percent'
            when {{ regex_contains('unit', "'к соответствующему периоду предыдущего года'") }}
                then 'index, same period a year earlier = 100'
            when {{ regex_contains('unit', "'^([Рр]ублей|[Рр]уб[.]|BYN)$'") }} then 'BYN'
            else unit
        end as unit,
        -- Investment shares: what the table's own title says (all foreign investment or direct; flow or stock).
        case
            when indicator_code not like '%investment%' then null
            when {{ regex_contains('table_title', "'[Пп]рям'") }} then 'direct'
            when {{ regex_contains('table_title', "'[Пп]оступлен'") }} then 'all'
            else 'not stated'
        end as investment_scope,
        case
            when indicator_code not like '%investment%' then null
            when {{ regex_contains('table_title', "'[Нн]акоплен|[Нн]а конец'") }} then 'stock'
            when {{ regex_contains('table_title', "'[Пп]оступлен|[Нн]а чистой основе'") }} then 'flow'
            else 'not stated'
        end as investment_measure
    from chosen
)

select * from final
