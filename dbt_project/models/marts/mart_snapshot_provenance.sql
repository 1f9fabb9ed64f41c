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

taken_in as (
    select * from {{ ref('int_observations__taken_in') }}
),

-- int_observations__taken_in holds each snapshot's vintages by indicator (every snapshot: it takes in all of them,
-- before this model is built): a snapshot of one vintage per indicator needs nothing else. Only a snapshot that
-- holds several vintages of an indicator has its rows read again (the vintages between the first and the last).
by_snapshot as (
    select
        snapshot_sha256,
        string_agg(distinct cast(max_vintage as varchar), ', ' order by cast(max_vintage as varchar)) as vintages,
        sum(observations) as observations,
        bool_and(min_vintage = max_vintage) as one_vintage_per_indicator
    from taken_in
    group by snapshot_sha256
),

several_vintages as (
    select
        published.snapshot_sha256,
        string_agg(distinct cast(published.vintage as varchar), ', ' order by cast(published.vintage as varchar))
            as vintages,
        count(*) as observations
    from published
    inner join by_snapshot
        on published.snapshot_sha256 = by_snapshot.snapshot_sha256
    where not by_snapshot.one_vintage_per_indicator
    group by published.snapshot_sha256
),

vintages as (
    select
        snapshot_sha256,
        vintages,
        observations
    from by_snapshot
    where one_vintage_per_indicator
    union all
    select
        snapshot_sha256,
        vintages,
        observations
    from several_vintages
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
