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

-- A bulk CSV is loaded wide (one row per data line, the year cells as a list); each cell becomes a row here, in
-- step with its year and position (select-list unnests: DuckDB plans a lateral unnest as a costly join).
bulk_cells as (
    select
        bulk_lines.snapshot_sha256,
        bulk_lines.line_number,
        {{ list_length('bulk_files.years') }} as year_count,
        bulk_lines.indicator_code,
        bulk_lines.indicator_name,
        bulk_lines.country_code,
        bulk_lines.country_name,
        bulk_files.release_date,
        unnest(bulk_lines.year_values) as cell_value,
        unnest(bulk_files.years) as period,
        {{ list_positions('bulk_lines.year_values') }} as cell_position
    from bulk_lines
    inner join bulk_files on bulk_lines.snapshot_sha256 = bulk_files.snapshot_sha256
),

-- Numbered (line - 1) x years + position, as the rows of an API page are numbered; empty cells are null values.
bulk as (
    select
        snapshot_sha256,
        cast((line_number - 1) * year_count + cell_position as integer) as snapshot_row,
        indicator_code,
        indicator_name,
        country_code as country_iso3,
        country_name,
        period,
        cell_value as value,  -- noqa: RF04
        cast(null as varchar) as unit,
        cast(null as varchar) as obs_status,
        release_date
    from bulk_cells
),

final as (
    select * from api
    union all
    select * from bulk
)

select * from final
