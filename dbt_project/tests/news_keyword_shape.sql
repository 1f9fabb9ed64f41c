{#- Fails with each taxonomy keyword outside the shape mart_news_item_categories matches word by word: runs of
    letters joined by one space or by hyphens and apostrophes (no other characters, none at either end), so that
    its word-by-word match equals the regular expression the keyword stands for (no regex metacharacters). -#}
{%- set letter = regex_letter() -%}
select
    taxonomy_version,
    category_key,
    language,
    keyword
from {{ ref('news_keyword_taxonomy') }}
where
    keyword is null
    or not {{ regex_full_match('keyword', "'[" ~ letter ~ "]+(( |[-''’]+)[" ~ letter ~ "]+)*'") }}
