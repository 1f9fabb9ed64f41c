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
by_url as (
    select
        *,
        count(*) over (partition by canonical_url) as url_versions
    from in_scope
    qualify row_number() over (
        partition by canonical_url
        order by kind_rank asc, fetched_at asc, snapshot_sha256 asc, snapshot_row asc
    ) = 1
),

-- One row per text: the same text under two URLs is one item; the earliest published is kept.
kept as (
    select *
    from by_url
    qualify row_number() over (
        partition by content_sha256
        order by published_at asc, fetched_at asc, canonical_url asc
    ) = 1
),

duplicates as (
    select
        kept.content_sha256,
        count(*) as duplicate_count,
        list(other.canonical_url order by other.canonical_url) as duplicate_urls
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
        coalesce(duplicates.duplicate_urls, []) as duplicate_urls
    from kept
    left join duplicates
        on kept.content_sha256 = duplicates.content_sha256
)

select * from final
