{#- Every stored response with what it is, who published it and the vintages of the observations parsed from it. -#}
with snapshots as (
    select * from {{ ref('stg_unionstat__snapshots') }}
),

sources as (
    select * from {{ ref('stg_unionstat__sources') }}
),

published as (
    select * from {{ ref('int_observations__published') }}
),

vintages as (
    select
        snapshot_sha256,
        string_agg(distinct cast(vintage as varchar), ', ' order by cast(vintage as varchar)) as vintages,
        count(*) as observations
    from published
    group by snapshot_sha256
),

final as (
    select
        snapshots.snapshot_sha256,
        snapshots.publisher as source_key,
        snapshots.dataset,
        snapshots.request_url,
        snapshots.origin,
        snapshots.recording_id,
        snapshots.fetched_at,
        snapshots.release_date,
        snapshots.content_type,
        snapshots.size_bytes,
        snapshots.run_id,
        vintages.vintages,
        vintages.observations,
        coalesce(sources.publisher_name, snapshots.publisher) as publisher
    from snapshots
    left join sources on snapshots.publisher = sources.publisher
    left join vintages on snapshots.snapshot_sha256 = vintages.snapshot_sha256
)

select * from final
