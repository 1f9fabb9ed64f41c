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
        {{ json_string_list('tags_json') }} as tags,
        {{ json_string_list('links_json') }} as links
    from articles
)

select * from final
