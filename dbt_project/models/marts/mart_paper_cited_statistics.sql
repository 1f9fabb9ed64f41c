{#- Each statistic a fact of Tables 1, 6 and 7 cites, beside the warehouse observation that carries it now. -#}
with cited as (
    select * from {{ ref('paper_cited_statistics') }}
),

observations as (
    select * from {{ ref('int_observations__as_of') }}
),

loaded_publishers as (
    select distinct publisher from {{ ref('int_observations__vintaged') }}
),

-- the observation at the cited period, or the newest period loaded where the paper states none
candidates as (
    select
        cited.statistic_id,
        observations.period,
        observations.value,
        observations.unit,
        observations.vintage,
        observations.snapshot_sha256,
        observations.source_url,
        observations.origin,
        observations.vintage_label,
        row_number() over (
            partition by cited.statistic_id order by observations.period desc nulls last
        ) as period_rank
    from cited
    inner join observations
        on
            cited.publisher = observations.publisher
            and cited.indicator_code = observations.indicator_code
            and cited.country_iso3 = observations.country_iso3
            and (cited.period is null or cited.period = observations.period)
),

linked as (
    select *
    from candidates
    where period_rank = 1
),

final as (
    select
        cited.statistic_id,
        cited.fact_id,
        cited.publisher,
        cited.indicator_code,
        cited.country_iso3,
        coalesce(linked.period, cited.period) as period,
        cited.printed_text,
        cited.printed_value,
        linked.value as current_value,
        linked.unit,
        linked.vintage,
        linked.snapshot_sha256,
        linked.source_url,
        linked.origin,
        linked.vintage_label,
        case
            when loaded_publishers.publisher is null then 'pending'
            when linked.value is null then 'no data'
            -- the paper's own figure, compiled from it: agrees by construction and checks nothing
            when linked.origin = 'compiled_from_paper' then 'paper only'
            when {{ matches_printed('linked.value', 'cited.printed_value', 'cited.printed_decimals') }} then 'match'
            else 'differs'
        end as evidence_status,
        cited.note
    from cited
    left join linked on cited.statistic_id = linked.statistic_id
    left join loaded_publishers on cited.publisher = loaded_publishers.publisher
)

select * from final
