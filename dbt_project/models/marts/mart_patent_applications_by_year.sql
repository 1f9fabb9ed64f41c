{#- Patent applications of Russia and Belarus by year from every publisher that counts them, newest vintage each. -#}
with vintaged as (
    select * from {{ ref('int_observations__vintaged') }}
),

ranked as (
    select
        publisher,
        indicator_code,
        country_iso3,
        period,
        value,
        vintage,
        snapshot_sha256,
        row_number() over (
            partition by publisher, indicator_code, country_iso3, period order by vintage desc, fetched_at desc
        ) as vintage_rank
    from vintaged
    where
        (
            indicator_code in ('patent_applications_total_by_origin', 'IP.PAT.RESD', 'IP.PAT.NRES')
            or (publisher = 'belstat' and lower(indicator_code) like '%patent%')
        )
        and {{ regex_full_match('period', "'[0-9]{4}'") }}
        and country_iso3 in ('RUS', 'BLR')
        and value is not null
),

final as (
    select
        publisher,
        indicator_code,
        country_iso3,
        period,
        value,
        vintage,
        snapshot_sha256
    from ranked
    where vintage_rank = 1
)

select * from final
