{#- News items per sector and month; items that also mark a joint initiative are counted separately. -#}
with categories as (
    select * from {{ ref('mart_news_item_categories') }}
),

initiatives as (
    select distinct canonical_url
    from categories
    where category_type = 'initiative'
),

sectors as (
    select
        categories.*,
        initiatives.canonical_url is not null as is_joint_initiative
    from categories
    left join initiatives on categories.canonical_url = initiatives.canonical_url
    where categories.category_type = 'sector'
),

final as (
    select
        category_id as sector_id,
        cast(date_trunc('month', published_at) as date) as published_month,
        count(*) as news_items,
        count(*) filter (where is_joint_initiative) as joint_initiative_items,
        count(distinct news_source) as sources
    from sectors
    group by sector_id, published_month
)

select * from final
