{#- How many news items support each row of Tables 1, 6 and 7 (through the row's taxonomy category). -#}
with facts as (
    select * from {{ ref('paper_qualitative_facts') }}
),

categories as (
    select * from {{ ref('mart_news_item_categories') }}
),

paper_rows as (
    select distinct
        paper_table,
        table_row,
        heading as row_label,
        news_category
    from facts
),

final as (
    select
        paper_rows.paper_table,
        paper_rows.table_row,
        paper_rows.row_label,
        paper_rows.news_category,
        count(categories.canonical_url) as supporting_news_items,
        count(distinct categories.news_source) as supporting_sources,
        min(categories.published_at) as first_published_at,
        max(categories.published_at) as last_published_at
    from paper_rows
    left join categories on paper_rows.news_category = categories.category_key
    group by paper_rows.paper_table, paper_rows.table_row, paper_rows.row_label, paper_rows.news_category
)

select * from final
