{#- Each news item classified by the keyword taxonomy: one row per item and category it matches. -#}
with items as (
    select * from {{ ref('mart_news_items') }}
),

taxonomy as (
    select * from {{ ref('news_keyword_taxonomy') }}
    -- the newest taxonomy version only: a new version re-classifies every item
    qualify taxonomy_version = max(taxonomy_version) over ()
),

texts as (
    select
        source as news_source,
        canonical_url,
        published_at,
        language,
        title,
        lower(coalesce(title, '') || ' ' || coalesce(body_text, '')) as search_text
    from items
),

-- a keyword is a stem matched at the start of a word; a space matches the rest of a word and what follows it
patterns as (
    select
        *,
        '(^|[^\pL])' || replace(keyword, ' ', '\pL*[^\pL]+') as pattern
    from taxonomy
),

matches as (
    select
        texts.news_source,
        texts.canonical_url,
        texts.published_at,
        texts.language,
        texts.title,
        patterns.taxonomy_version,
        patterns.category_key,
        patterns.category_type,
        patterns.category_id,
        patterns.category_label,
        patterns.keyword
    from texts
    inner join patterns on regexp_matches(texts.search_text, patterns.pattern)
),

final as (
    select
        canonical_url,
        category_key,
        any_value(news_source) as news_source,
        any_value(published_at) as published_at,
        any_value(language) as news_language,
        any_value(title) as title,
        any_value(taxonomy_version) as taxonomy_version,
        any_value(category_type) as category_type,
        any_value(category_id) as category_id,
        any_value(category_label) as category_label,
        count(*) as keyword_hits,
        list(distinct keyword order by keyword) as matched_keywords
    from matches
    group by canonical_url, category_key
)

select * from final
