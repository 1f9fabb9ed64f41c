{#- The news table: one row per in-scope item, deduplicated by canonical URL and then by content. -#}
with items as (
    select * from {{ ref('int_news_items__unioned') }}
),

in_scope as (
    select *
    from items
    where in_scope
),

-- One row per canonical URL: a full article page beats a feed item; then the earliest fetch.
url_ranked as (
    select
        *,
        count(*) over (partition by canonical_url) as url_versions,
        row_number() over (
            partition by canonical_url
            order by kind_rank asc, fetched_at asc, snapshot_sha256 asc, snapshot_row asc
        ) as url_rank
    from in_scope
),

by_url as (
    select *
    from url_ranked
    where url_rank = 1
),

-- One row per text: the same text under two URLs is one item; the earliest published is kept.
content_ranked as (
    select
        *,
        row_number() over (
            partition by content_sha256
            order by published_at asc, fetched_at asc, canonical_url asc
        ) as content_rank
    from by_url
),

kept as (
    select *
    from content_ranked
    where content_rank = 1
),

duplicates as (
    select
        kept.content_sha256,
        count(*) as duplicate_count,
        array_agg(other.canonical_url order by other.canonical_url) as duplicate_urls
    from kept
    inner join by_url as other
        on
            kept.content_sha256 = other.content_sha256
            and kept.canonical_url != other.canonical_url
    group by kept.content_sha256
),

final as (
    select
        kept.source,
        kept.canonical_url,
        kept.language,
        kept.title,
        kept.body_text,
        kept.tags,
        kept.snapshot_sha256,
        kept.content_sha256,
        kept.item_kind,
        kept.is_compiled_from_paper,
        kept.url_versions,
        kept.origin,
        kept.fetched_at,
        -- Items compiled from the paper carry its publication month, not an outlet's publication date.
        kept.is_compiled_from_paper as date_is_publication_proxy,
        timezone('UTC', kept.published_at) as published_at,
        coalesce(duplicates.duplicate_count, 0) as duplicate_count,
        coalesce(duplicates.duplicate_urls, cast(array[] as varchar[])) as duplicate_urls
    from kept
    left join duplicates
        on kept.content_sha256 = duplicates.content_sha256
)

select * from final
