{#- Table 3 with news: the paper's count per sector beside the news items classified as joint initiatives. -#}
with paper as (
    select * from {{ ref('mart_table3_joint_initiatives') }}
),

monthly as (
    select * from {{ ref('mart_news_counts_by_sector_month') }}
),

news as (
    select
        sector_id,
        sum(joint_initiative_items) as news_joint_initiative_items,
        min(published_month) as first_month,
        max(published_month) as last_month
    from monthly
    group by sector_id
),

combined as (
    select
        news.first_month,
        news.last_month,
        coalesce(paper.sector_id, news.sector_id) as sector_id,
        coalesce(paper.initiative_count, 0) as paper_initiative_count,
        coalesce(news.news_joint_initiative_items, 0) as news_joint_initiative_items
    from paper
    full outer join news on paper.sector_id = news.sector_id
),

final as (
    select
        *,
        {{ round_to(
            'cast(news_joint_initiative_items as double precision)'
            ~ ' / nullif(sum(news_joint_initiative_items) over (), 0) * 100',
            4
        ) }} as news_share_pct
    from combined
)

select * from final
