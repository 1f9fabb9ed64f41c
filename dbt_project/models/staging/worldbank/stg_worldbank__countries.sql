with countries as (
    select * from {{ source('worldbank', 'worldbank_countries') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        country_code as country_iso3,
        table_name as country_name,
        region,
        income_group,
        special_notes
    from countries
)

select * from final
