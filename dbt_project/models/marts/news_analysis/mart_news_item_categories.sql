{#- Each news item classified by the keyword taxonomy: one row per item and category it matches.

    A keyword is a lowercase stem matched at the start of a word; a space in it matches the rest of that word and
    the non-letters after it, so the next stem starts the next word; a hyphen or apostrophe in it is literal, so the
    word before it ends there and it is the whole gap to the next word (`ит-компани`). That is what the regular
    expression '(^|[^\pL])' || replace(keyword, ' ', '[\pL]*[^\pL]+') matches (tests/dbt/test_news_categories.py
    holds it as the oracle; the seed's test news_keyword_shape keeps keywords to that shape). Rather than run a
    regex per item and keyword (compiled per pair, its pattern being a column), texts and keywords are cut into
    words once and matched word by word: a stem against the distinct words of all texts, then by position. -#}
{%- set letter = regex_letter() -%}
{%- set non_letters = "'[^" ~ letter ~ "]+'" -%}
{%- set letters = "'[" ~ letter ~ "]+'" -%}
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

-- item_key: a number for each item (canonical_url is unique), cheaper to join and group on than the URL
texts as (
    select
        row_number() over (order by canonical_url) as item_key,
        source as news_source,
        canonical_url,
        published_at,
        language,
        title,
        lower(coalesce(title, '') || ' ' || coalesce(body_text, '')) as search_text
    from items
),

keywords as (
    select distinct keyword
    from taxonomy
),

-- Cut with a leading ' ', piece 1 is the empty text before the first word, and the n-th word and the gap after
-- it share position n. unnest and generate_subscripts in one select list run in step (DuckDB and PostgreSQL); a
-- lateral join would make DuckDB join the pieces back on the whole text.
keyword_pieces as (
    select
        keyword,
        regexp_split_to_array(' ' || keyword, {{ non_letters }}) as words,
        regexp_split_to_array(' ' || keyword, {{ letters }}) as gaps
    from keywords
),

keyword_words as (
    select
        keyword,
        unnest(words) as word,
        generate_subscripts(words, 1) as word_position
    from keyword_pieces
),

keyword_gaps as (
    select
        keyword,
        unnest(gaps) as gap,
        generate_subscripts(gaps, 1) as gap_position
    from keyword_pieces
),

-- Part 1..n of a keyword: a stem a word starts with (the last part, or one followed by a space), or a whole word
-- followed by exactly a literal gap.
keyword_parts as (
    select
        keyword_words.keyword,
        keyword_words.word as stem,
        keyword_words.word_position - 1 as part_index,
        case when keyword_gaps.gap not in ('', ' ') then keyword_gaps.gap end as literal_gap,
        count(*) over (partition by keyword_words.keyword) as part_count
    from keyword_words
    inner join keyword_gaps
        on
            keyword_words.keyword = keyword_gaps.keyword
            and keyword_words.word_position = keyword_gaps.gap_position
    where keyword_words.word_position > 1
),

text_pieces as (
    select
        item_key,
        regexp_split_to_array(' ' || search_text, {{ non_letters }}) as words
    from texts
),

-- materialized: read twice (the vocabulary, the matches), cut once
text_words as materialized (
    select
        item_key,
        word,
        word_position
    from (
        select
            item_key,
            unnest(words) as word,
            generate_subscripts(words, 1) as word_position
        from text_pieces
    ) as pieces
    where word != ''
),

vocabulary as (
    select distinct word
    from text_words
),

-- each keyword part against each distinct word (not each occurrence)
vocabulary_matches as (
    select
        vocabulary.word,
        keyword_parts.keyword,
        keyword_parts.part_index,
        keyword_parts.part_count,
        keyword_parts.literal_gap
    from vocabulary
    inner join keyword_parts
        on
            (keyword_parts.literal_gap is null and starts_with(vocabulary.word, keyword_parts.stem))
            or (keyword_parts.literal_gap is not null and vocabulary.word = keyword_parts.stem)
),

word_matches as (
    select
        text_words.item_key,
        text_words.word_position,
        vocabulary_matches.keyword,
        vocabulary_matches.part_index,
        vocabulary_matches.part_count,
        vocabulary_matches.literal_gap,
        text_words.word_position - vocabulary_matches.part_index as match_start
    from text_words
    inner join vocabulary_matches on text_words.word = vocabulary_matches.word
),

-- a literal gap must be the whole gap after the word (the rare case: the text is cut once more, for those only)
gaps_checked as (
    select word_matches.*
    from word_matches
    where word_matches.literal_gap is null
    union all
    select word_matches.*
    from word_matches
    inner join texts on word_matches.item_key = texts.item_key
    where
        word_matches.literal_gap is not null
        and (regexp_split_to_array(' ' || texts.search_text, {{ letters }}))[
            cast(word_matches.word_position as integer)
        ] = word_matches.literal_gap
),

-- every part of a keyword at consecutive words from one start
keyword_matches as (
    select distinct
        item_key,
        keyword
    from (
        select
            item_key,
            keyword
        from gaps_checked
        group by item_key, keyword, match_start, part_count
        having count(*) = part_count
    ) as complete_matches
),

matches as (
    select
        texts.news_source,
        texts.canonical_url,
        texts.published_at,
        texts.language,
        texts.title,
        taxonomy.taxonomy_version,
        taxonomy.category_key,
        taxonomy.category_type,
        taxonomy.category_id,
        taxonomy.category_label,
        taxonomy.keyword
    from keyword_matches
    inner join texts on keyword_matches.item_key = texts.item_key
    inner join taxonomy on keyword_matches.keyword = taxonomy.keyword
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
