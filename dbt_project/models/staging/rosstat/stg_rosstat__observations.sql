with observations as (
    select * from {{ source('rosstat', 'rosstat_observations') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        document_kind,
        file_url,
        link_text,
        sheet_name,
        row_label,
        column_label,
        indicator_code,
        period,
        base_period,
        cell_text,
        value,
        unit
    from observations
)

select * from final
