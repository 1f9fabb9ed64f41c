with snapshots as (
    select * from {{ source('unionstat_raw', 'snapshots') }}
),

final as (
    select
        sha256 as snapshot_sha256,
        source as publisher,
        dataset,
        request_url,
        origin,
        recording_id,
        cast(fetched_at as timestamp with time zone) as fetched_at,
        http_status,
        etag,
        last_modified,
        content_type,
        size_bytes,
        release_date,
        run_id
    from snapshots
)

select * from final
