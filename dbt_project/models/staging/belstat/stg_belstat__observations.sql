with observations as (
    select * from {{ source('belstat', 'belstat_observations') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        dataset as indicator_code,
        reporter_iso3 as country_iso3,
        partner_iso3,
        period,
        value,
        value_text,
        value_symbol,
        unit,
        investment_scope,
        investment_measure,
        row_label,
        column_label,
        cell_ref,
        table_title,
        table_notes,
        file_format,
        text_encoding,
        release_date
    from observations
)

select * from final
