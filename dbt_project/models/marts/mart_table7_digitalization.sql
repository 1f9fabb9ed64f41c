{#- The paper's Table 7: each digital initiative as a fact, with the statistics it cites and their current warehouse values. -#}
with facts as (
    select * from {{ ref('mart_paper_facts') }}
),

final as (
    select
        fact_id,
        table_row,
        detail_number,
        heading as aspect,
        detail as data_initiative,
        implication,
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
        evidence_row_id,
        evidence_status
    from facts
    where paper_table = 'Table 7'
)

select * from final
