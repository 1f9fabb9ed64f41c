{#- GDP growth of every Eurasian Economic Union member, Russia and Belarus beside their peers, as of the build. -#}
with as_of as (
    select * from {{ ref('int_observations__as_of') }}
),

members as (
    select * from {{ ref('eaeu_members') }}
),

final as (
    select
        members.country_iso3,
        members.country_name,
        as_of.period,
        as_of.value,
        as_of.vintage,
        as_of.origin,
        as_of.snapshot_sha256,
        members.country_iso3 in ('RUS', 'BLR') as is_union_state
    from as_of
    inner join members on as_of.country_iso3 = members.country_iso3
    where as_of.publisher = 'worldbank' and as_of.indicator_code = 'NY.GDP.MKTP.KD.ZG'
)

select * from final
