{#- The figure as known on var('as_of'): the newest vintage released on or before that date (or the newest). -#}
{% set as_of = var('as_of', none) %}

with vintaged as (
    select * from {{ ref('int_observations__vintaged') }}
),

eligible as (
    select *
    from vintaged
    {% if as_of %}
        where vintage <= cast('{{ as_of }}' as date)
    {% endif %}
),

final as (
    select *
    from eligible
    qualify row_number() over (
        partition by publisher, indicator_code, country_iso3, period
        order by vintage desc, fetched_at desc
    ) = 1
)

select * from final
