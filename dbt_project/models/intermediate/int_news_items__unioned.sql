{#- Every news publisher's items in one shape, with snapshot provenance, a canonical URL and a content hash. -#}
with osw as (
    select * from {{ ref('stg_osw__articles') }}
),

rg as (
    select * from {{ ref('stg_rg__articles') }}
),

snapshots as (
    select * from {{ ref('stg_unionstat__snapshots') }}
),

-- the staging views share one column list (listed, not `union all by name`: that is DuckDB's)
all_publishers as (
    select
        'osw' as source,  -- noqa: RF04
        snapshot_sha256,
        snapshot_row,
        item_kind,
        url,
        title,
        summary,
        body_text,
        published_at_text,
        language,
        image_url,
        in_scope,
        published_at,
        tags,
        links
    from osw
    union all
    select
        'rg' as source,  -- noqa: RF04
        snapshot_sha256,
        snapshot_row,
        item_kind,
        url,
        title,
        summary,
        body_text,
        published_at_text,
        language,
        image_url,
        in_scope,
        published_at,
        tags,
        links
    from rg
),

with_provenance as (
    select
        all_publishers.*,
        snapshots.fetched_at,
        snapshots.origin,
        snapshots.request_url,
        -- The same text under two URLs is one item: the text with whitespace and case folded is hashed below.
        lower(trim(regexp_replace(coalesce(all_publishers.body_text, all_publishers.title), '\s+', ' ', 'g')))
            as folded_text
    from all_publishers
    inner join snapshots
        on
            all_publishers.snapshot_sha256 = snapshots.snapshot_sha256
            and all_publishers.source = snapshots.publisher
),

final as (
    select
        source,
        snapshot_sha256,
        snapshot_row,
        item_kind,
        url,
        title,
        summary,
        body_text,
        published_at,
        published_at_text,
        language,
        tags,
        links,
        image_url,
        in_scope,
        fetched_at,
        origin,
        request_url,
        -- Scheme, host case, query, fragment and trailing slashes do not make a different article.
        case
            when url like 'urn:%' then url
            else
                regexp_replace(
                    'https://'
                    || lower({{ regex_extract('url', "'^https?://([^/?#]+)'", 1) }})
                    || {{ regex_extract('url', "'^https?://[^/?#]+([^?#]*)'", 1) }},
                    '/+$',
                    ''
                )
        end as canonical_url,
        {{ sha256_hex('folded_text') }} as content_sha256,
        url like 'urn:unionstat:paper:%' as is_compiled_from_paper,
        case item_kind when 'article' then 1 else 2 end as kind_rank
    from with_provenance
)

select * from final
