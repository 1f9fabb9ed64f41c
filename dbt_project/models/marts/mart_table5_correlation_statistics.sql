{#- Table 5's Pearson correlation between the two shares over the years where both exist, with a Fisher z CI. -#}
{#- The normal quantile for a two-sided 95% interval. -#}
{% set z_975 = 1.959963984540054 %}

with years as (
    select * from {{ ref('mart_table5_shares_by_year') }}
),

paired as (
    select
        count(*) as n,
        corr(trade_share, investment_share) as r_raw,
        string_agg(period, ', ' order by period) as paired_years
    from years
    where both_available
),

checked as (
    select
        n,
        paired_years,
        case when n >= 3 and {{ is_finite('r_raw') }} then r_raw end as r
    from paired
),

final as (
    select
        'trade_vs_investment_share' as correlation_id,
        'russia_share_foreign_trade_turnover' as x_indicator,
        'russia_share_foreign_investment' as y_indicator,
        n,
        paired_years,
        {{ round_to('r', 4) }} as r,
        r as r_unrounded,
        {{ round_to('power(r, 2)', 4) }} as r_squared,
        case
            when abs(r) = 1 then r
            when n >= 4 then {{ round_to('tanh(atanh(r) - ' ~ z_975 ~ ' / sqrt(n - 3))', 4) }}
        end as ci95_low,
        case
            when abs(r) = 1 then r
            when n >= 4 then {{ round_to('tanh(atanh(r) + ' ~ z_975 ~ ' / sqrt(n - 3))', 4) }}
        end as ci95_high,
        case
            when r is null then 'not computable'
            else 'computed'
        end as status,
        case
            when n < 3
                then
                    'r cannot be computed: it needs at least three years with both shares, found '
                    || cast(n as varchar) || coalesce(' (' || paired_years || ')', '')
            when r is null
                then 'r cannot be computed: one of the shares does not vary over ' || paired_years
            when n = 3 and abs(r) < 1
                then 'the Fisher z confidence interval needs at least four years'
        end as status_reason
    from checked
)

select * from final
