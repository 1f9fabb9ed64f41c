with articles as (
    select * from {{ source('rg', 'rg_articles') }}
),

final as (
    select
        snapshot_sha256,
        row_number as snapshot_row,
        item_kind,
        url,
        title,
        summary,
        body_text,
        published_at_text,
        language,
        image_url,
        in_scope,
        cast(published_at as timestamp with time zone) as published_at,
        cast(from_json(tags_json, '["VARCHAR"]') as varchar[]) as tags,
        cast(from_json(links_json, '["VARCHAR"]') as varchar[]) as links
    from articles
)

select * from final
