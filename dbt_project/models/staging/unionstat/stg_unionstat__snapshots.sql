with snapshots as (
    select * from {{ source('unionstat_raw', 'snapshots') }}
),

retractions as (
    select * from {{ source('unionstat_raw', 'snapshot_retractions') }}
),

-- A snapshot withdrawn with `unionstat retract` (its latest journal entry a retraction) leaves everything
-- downstream: every publisher's rows reach the marts through this view.
retracted as (
    select sha256
    from (
        select
            sha256,
            action,
            row_number() over (partition by sha256 order by recorded_at desc) as entry_order
        from retractions
    ) as entries
    where entry_order = 1 and action = 'retract'
),

final as (
    select
        snapshots.sha256 as snapshot_sha256,
        snapshots.source as publisher,
        snapshots.dataset,
        snapshots.request_url,
        snapshots.origin,
        snapshots.recording_id,
        cast(snapshots.fetched_at as timestamp with time zone) as fetched_at,
        snapshots.http_status,
        snapshots.etag,
        snapshots.last_modified,
        snapshots.content_type,
        snapshots.size_bytes,
        snapshots.release_date,
        snapshots.run_id
    from snapshots
    where snapshots.sha256 not in (select retracted.sha256 from retracted)
)

select * from final
