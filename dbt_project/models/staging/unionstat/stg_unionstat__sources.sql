with sources as (
    select * from {{ source('unionstat_ops', 'sources') }}
),

final as (
    select
        source as publisher,
        publisher as publisher_name,
        base_url,
        licence,
        release_cadence,
        release_cadence_days,
        raw_table
    from sources
)

select * from final
