with api_observations as (
    select * from {{ source('worldbank', 'worldbank_observations') }}
),

bulk_lines as (
    select * from {{ source('worldbank', 'worldbank_bulk') }}
),

bulk_files as (
    select * from {{ source('worldbank', 'worldbank_bulk_files') }}
),

api as (
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
    from api_observations
),

-- A bulk CSV is loaded wide (one row per data line, the year cells as a list); each cell becomes a row here,
-- numbered (line - 1) x years + position, empty cells kept as null values.
bulk as (
    select
        bulk_lines.snapshot_sha256,
        cast(
            (bulk_lines.line_number - 1) * {{ list_length('bulk_files.years') }} + cells.position as integer
        ) as snapshot_row,
        bulk_lines.indicator_code,
        bulk_lines.indicator_name,
        bulk_lines.country_code as country_iso3,
        bulk_lines.country_name,
        bulk_files.years[cast(cells.position as integer)] as period,
        cells.value,
        cast(null as varchar) as unit,
        cast(null as varchar) as obs_status,
        bulk_files.release_date
    from bulk_lines
    inner join bulk_files on bulk_lines.snapshot_sha256 = bulk_files.snapshot_sha256
    cross join lateral unnest(bulk_lines.year_values) with ordinality as cells (value, position)
),

final as (
    select * from api
    union all
    select * from bulk
)

select * from final
