with observations as (
    select * from {{ source('wipo', 'wipo_observations') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        export_kind,
        indicator_code,
        ip_right,
        origin_code,
        country_iso3,
        origin_name,
        office,
        field_of_technology,
        year as period,
        cell_text,
        value,
        value_count,
        unit,
        last_updated as release_date,
        release_stamp,
        source_line,
        coalesce(indicator_label, row_label) as indicator_label
    from observations
)

select * from final
