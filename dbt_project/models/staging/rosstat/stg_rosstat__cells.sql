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
        cast(row_index as integer) as row_index,
        cast(column_index as integer) as column_index,
        cell_ref,
        row_label,
        row_code,
        column_header,
        period,
        period_text,
        notes,
        cast(value as double) as value,
        value_text,
        cast(release_date as date) as release_date
    from cells
)

select * from final
