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
    {{ worldbank_staged('observations') }}
)

select * from final
