{#- The paper's Table 3: joint initiatives per sector, with each sector's share of the total. -#}
with sectors as (
    select * from {{ ref('paper_table3_joint_initiatives') }}
),

totals as (
    select sum(initiative_count) as total_initiatives
    from sectors
),

shares as (
    select
        sectors.sector_id,
        sectors.display_order,
        sectors.sector_label,
        sectors.initiative_count,
        totals.total_initiatives,
        sectors.printed_share_text,
        sectors.printed_share,
        sectors.cited_from,
        {{ round_to('cast(sectors.initiative_count as double precision) / totals.total_initiatives * 100', 4) }} as share_pct
    from sectors
    cross join totals
),

final as (
    select
        sector_id,
        display_order,
        sector_label,
        initiative_count,
        total_initiatives,
        share_pct,
        printed_share_text,
        printed_share,
        {{ matches_printed('share_pct', 'printed_share', 1) }} as share_matches_printed,
        'paper' as evidence_basis,
        'The paper gives counts per sector, not a list of initiatives: ' || cited_from as evidence_note
    from shares
)

select * from final
