with cells as (
    select * from {{ source('belstat', 'belstat_cells') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        sheet_name,
        table_title,
        unit,
        row_index,
        column_index,
        cell_ref,
        row_label,
        row_code,
        column_header,
        period,
        period_text,
        notes,
        value,
        value_text,
        release_date,
        file_format,
        text_encoding,
        table_notes
    from cells
)

select * from final
