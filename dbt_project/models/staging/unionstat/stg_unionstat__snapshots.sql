with snapshots as (
    select * from {{ source('unionstat_raw', 'snapshots') }}
),

final as (
    select
        sha256 as snapshot_sha256,
        source as publisher,
        dataset,
        request_url,
        recording_id,
        cast(fetched_at as timestamp with time zone) as fetched_at,
        http_status,
        etag,
        last_modified,
        content_type,
        size_bytes,
        release_date,
        run_id,
        -- warehouses written before origins were named: 'live' was fetched, 'reference:<id>' compiled from the paper
        case
            when origin = 'live' then 'fetched'
            when origin like 'reference:%' then 'compiled_from_paper'
            else origin
        end as origin
    from snapshots
)

select * from final
