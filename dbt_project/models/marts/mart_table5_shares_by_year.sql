{#- Russia's share in Belarus's foreign trade and in its foreign investment, by year (Belstat). -#}
{% set trade = 'russia_share_foreign_trade_turnover' %}
{% set investment = 'russia_share_foreign_investment' %}

with observations as (
    select * from {{ ref('int_observations__as_of') }}
),

shares as (
    select *
    from observations
    where
        publisher = 'belstat'
        and country_iso3 = 'BLR'
        and indicator_code in ('{{ trade }}', '{{ investment }}')
        and {{ regex_full_match('period', "'[0-9]{4}'") }}
),

by_year as (
    select
        period,
        cast(period as integer) as period_year,
        max(case when indicator_code = '{{ trade }}' then value end) as trade_share,
        max(case when indicator_code = '{{ investment }}' then value end) as investment_share,
        max(case when indicator_code = '{{ trade }}' then vintage end) as trade_vintage,
        max(case when indicator_code = '{{ investment }}' then vintage end) as investment_vintage,
        max(case when indicator_code = '{{ trade }}' then snapshot_sha256 end) as trade_snapshot_sha256,
        max(case when indicator_code = '{{ investment }}' then snapshot_sha256 end) as investment_snapshot_sha256
    from shares
    group by period
),

with_change as (
    select
        current_year.*,
        {{ round_to('current_year.trade_share - previous_year.trade_share', 4) }} as trade_share_yoy_change_pp
    from by_year as current_year
    left join by_year as previous_year
        on current_year.period_year = previous_year.period_year + 1
),

final as (
    select
        period,
        period_year,
        trade_share,
        investment_share,
        trade_share_yoy_change_pp,
        trade_vintage,
        investment_vintage,
        trade_snapshot_sha256,
        investment_snapshot_sha256,
        trade_share is not null and investment_share is not null as both_available
    from with_change
)

select * from final
