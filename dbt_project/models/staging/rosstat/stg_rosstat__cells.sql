with cells as (
    select * from {{ source('rosstat', 'rosstat_cells') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        document_kind,
        file_url,
        link_text,
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
        release_date
    from cells
)

select * from final
