with observations as (
    select * from {{ source('worldbank', 'worldbank_observations') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        indicator_id as indicator_code,
        indicator_name,
        countryiso3code as country_iso3,
        country_name,
        date as period,
        value,
        unit,
        obs_status,
        lastupdated as release_date
    from observations
)

select * from final
