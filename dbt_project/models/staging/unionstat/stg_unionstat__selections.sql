with selections as (
    select * from {{ source('unionstat_ops', 'source_selections') }}
),

final as (
    select
        source as publisher,
        indicator_code,
        country_iso3,
        sheet_pattern,
        title_pattern,
        row_label_pattern,
        row_code_pattern,
        column_header_pattern,
        note
    from selections
)

select * from final
