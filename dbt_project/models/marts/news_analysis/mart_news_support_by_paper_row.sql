{#- How many news items support each row of Tables 1, 6 and 7 (through the row's taxonomy category). -#}
with table1 as (
    select * from {{ ref('paper_table1_cooperation_aspects') }}
),

table6 as (
    select * from {{ ref('paper_table6_challenges') }}
),

table7 as (
    select * from {{ ref('paper_table7_digitalization') }}
),

categories as (
    select * from {{ ref('mart_news_item_categories') }}
),

paper_rows as (
    select distinct
        'Table 1' as paper_table,
        table_row,
        aspect as row_label,
        news_category
    from table1
    union all
    select distinct
        'Table 6' as paper_table,
        table_row,
        challenge as row_label,
        news_category
    from table6
    union all
    select distinct
        'Table 7' as paper_table,
        table_row,
        aspect as row_label,
        news_category
    from table7
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
