with api_observations as (
    select * from {{ source('worldbank', 'worldbank_observations') }}
),

-- A bulk CSV is loaded wide (one row per data line, the year cells as a list); the raw layer unnests it into the
-- long shape of an API page once (raw.worldbank_bulk_observations, over the table macro raw.worldbank_bulk_rows
-- that validation reads too), numbered (line - 1) x years + position.
bulk_observations as (
    select * from {{ source('worldbank', 'worldbank_bulk_observations') }}
),

observations as (
    select * from api_observations
    union all
    select * from bulk_observations
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
