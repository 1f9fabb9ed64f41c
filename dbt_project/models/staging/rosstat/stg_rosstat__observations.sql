{#- The paper's indicators (and their counterparts in real files) out of the cells of Rosstat workbooks: a cell is
    chosen by a selection of the registry (scrapers/sources.json "selections") when every pattern the selection
    sets matches. The unit is read from the title's basis: "... к соответствующему периоду предыдущего года" and
    "... к предыдущему году" are indices; anything else keeps the title's words. -#}
with cells as (
    select * from {{ ref('stg_rosstat__cells') }}
),

selections as (
    select * from {{ ref('stg_unionstat__selections') }}
    where publisher = 'rosstat'
),

chosen as (
    select
        cells.snapshot_sha256,
        cells.snapshot_row,
        selections.indicator_code,
        cells.period,
        cells.value,
        cells.unit as unit_text,
        cells.sheet_name,
        cells.cell_ref,
        cells.row_label,
        cells.row_code,
        cells.column_header,
        cells.notes,
        cells.release_date,
        coalesce(selections.country_iso3, 'RUS') as country_iso3
    from cells
    inner join selections
        on {{ matches_selection('cells', 'selections') }}
    where
        cells.document_kind = 'workbook'
        and cells.value is not null
        and cells.period is not null
),

final as (
    select
        snapshot_sha256,
        snapshot_row,
        indicator_code,
        country_iso3,
        period,
        value,
        case
            when {{ regex_contains('unit_text', "'соответствующему периоду предыдущего года'") }}
                then 'index (same period a year earlier = 100)'
            when {{ regex_contains('unit_text', "'к предыдущему году'") }}
                then 'index (previous year = 100)'
            else unit_text
        end as unit,
        unit_text,
        sheet_name,
        cell_ref,
        row_label,
        row_code,
        column_header,
        notes,
        release_date
    from chosen
)

select * from final
