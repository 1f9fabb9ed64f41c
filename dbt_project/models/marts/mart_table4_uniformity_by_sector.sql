{#- Table 4's observed and expected counts per sector under a uniform distribution. -#}
with sectors as (
    select * from {{ ref('mart_table3_joint_initiatives') }}
),

totals as (
    select
        sum(initiative_count) as total_initiatives,
        count(*) as sector_count
    from sectors
),

expected as (
    select
        sectors.sector_id,
        sectors.display_order,
        sectors.sector_label,
        sectors.initiative_count as observed,
        cast(totals.total_initiatives as double precision) / totals.sector_count as expected
    from sectors
    cross join totals
),

final as (
    select
        sector_id,
        display_order,
        sector_label,
        observed,
        expected,
        power(observed - expected, 2) / expected as chi_square_contribution,
        expected < 5 as expected_below_5
    from expected
)

select * from final
