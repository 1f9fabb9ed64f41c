{#- The paper's Table 6: each challenge description as a fact, with the statistics it cites and their current warehouse values. -#}
with facts as (
    select * from {{ ref('mart_paper_facts') }}
),

final as (
    select
        fact_id,
        table_row,
        detail_number,
        heading as challenge,
        detail as description,
        implication as potential_impact,
        note,
        news_category,
        cited_from,
        statistic_id,
        publisher,
        indicator_code,
        country_iso3,
        period,
        printed_text,
        current_value,
        vintage,
        origin,
        snapshot_sha256,
        category,
        evidence_row_id,
        evidence_status
    from facts
    where paper_table = 'Table 6'
)

select * from final
