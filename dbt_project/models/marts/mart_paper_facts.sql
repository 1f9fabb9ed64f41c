{#- The facts of the paper's Tables 1, 6 and 7, each with the statistics it cites and their current warehouse values. -#}
with facts as (
    select * from {{ ref('paper_qualitative_facts') }}
),

statistics as (
    select * from {{ ref('mart_paper_cited_statistics') }}
),

final as (
    select
        facts.paper_table,
        facts.fact_id,
        facts.table_row,
        facts.detail_number,
        facts.heading,
        facts.detail,
        facts.implication,
        facts.note,
        facts.news_category,
        facts.cited_from,
        statistics.statistic_id,
        statistics.publisher,
        statistics.indicator_code,
        statistics.country_iso3,
        statistics.period,
        statistics.printed_text,
        statistics.current_value,
        statistics.vintage,
        statistics.origin,
        statistics.snapshot_sha256,
        coalesce(facts.category, 'not stated') as category,
        facts.fact_id || coalesce('/' || statistics.statistic_id, '') as evidence_row_id,
        coalesce(statistics.evidence_status, 'paper only') as evidence_status
    from facts
    left join statistics on facts.fact_id = statistics.fact_id
)

select * from final
