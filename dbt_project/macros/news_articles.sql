{#- The staging of a news site's raw table (raw.<site>_articles, scrapers/news.py: every site loads the same
    columns): rename and cast only. stg_osw__articles and stg_rg__articles are this, each on its own source. -#}
{% macro news_articles(source_name) -%}
with articles as (
    select * from {{ source(source_name, source_name ~ '_articles') }}
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
{%- endmacro %}
