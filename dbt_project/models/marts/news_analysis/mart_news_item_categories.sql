{#- Each news item classified by the keyword taxonomy: one row per item and category it matches. -#}
with items as (
    select * from {{ ref('mart_news_items') }}
),

taxonomy_versions as (
    select * from {{ ref('news_keyword_taxonomy') }}
),

newest_version as (
    select max(taxonomy_version) as taxonomy_version
    from taxonomy_versions
),

-- the newest taxonomy version only: a new version re-classifies every item
taxonomy as (
    select taxonomy_versions.*
    from taxonomy_versions
    inner join newest_version on taxonomy_versions.taxonomy_version = newest_version.taxonomy_version
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
        '(^|[^{{ regex_letter() }}])' || replace(keyword, ' ', '[{{ regex_letter() }}]*[^{{ regex_letter() }}]+') as pattern
    from taxonomy
),

-- a cheap containment test first: the regex (compiled per pair, its pattern being a column) runs on candidates only
candidates as (
    select
        texts.news_source,
        texts.canonical_url,
        texts.published_at,
        texts.language,
        texts.title,
        texts.search_text,
        patterns.taxonomy_version,
        patterns.category_key,
        patterns.category_type,
        patterns.category_id,
        patterns.category_label,
        patterns.keyword,
        patterns.pattern
    from texts
    inner join patterns on strpos(texts.search_text, split_part(patterns.keyword, ' ', 1)) > 0
),

matches as (
    select *
    from candidates
    where {{ regex_contains('candidates.search_text', 'candidates.pattern') }}
),

-- one value per item (news_source ... title) and per category (taxonomy_version ... category_label): min() picks it
final as (
    select
        canonical_url,
        category_key,
        min(news_source) as news_source,
        min(published_at) as published_at,
        min(language) as news_language,
        min(title) as title,
        min(taxonomy_version) as taxonomy_version,
        min(category_type) as category_type,
        min(category_id) as category_id,
        min(category_label) as category_label,
        count(*) as keyword_hits,
        array_agg(distinct keyword order by keyword) as matched_keywords
    from matches
    group by canonical_url, category_key
)

select * from final
