{#- The body of int_observations__published: the rows of `members` (observation_members) in one shape, with each
    snapshot's provenance and vintage. `rows_of` maps a member's model to the relation its rows are read from (by
    default the model itself; int_observations__vintaged passes a publisher's revised cells, macro
    observation_revisions); `extra_columns` are carried from those rows as they are. -#}
{% macro published_observations(members, rows_of={}, extra_columns=[]) -%}
with snapshots as (
    select * from {{ ref('stg_unionstat__snapshots') }}
),

-- The same bytes can be stored under two datasets or URLs (raw.snapshots has a row each) but load once: each
-- snapshot's provenance is its first fetch (fetch_order = 1), so no row is counted twice.
first_fetches as (
    select
        publisher,
        snapshot_sha256,
        dataset,
        fetched_at,
        request_url,
        origin,
        release_date,
        row_number() over (
            partition by publisher, snapshot_sha256 order by fetched_at asc, dataset asc, request_url asc
        ) as fetch_order
    from snapshots
),

{% for member in members %}
    {%- set unit = 'observations.unit' %}
    {%- if member.unit_from_name %}
        {%- set named = regex_extract('observations.' ~ member.unit_from_name, "'\\(([^()]*)\\)\\s*$'", 1) %}
        {%- set unit = "coalesce(nullif(observations.unit, ''), nullif(" ~ named ~ ", ''))" %}
    {%- endif %}
    {%- set dated_by = ['observations.release_date'] %}
    {%- if member.release_date_of_fetch %}{% do dated_by.append('first_fetches.release_date') %}{% endif %}
    {%- do dated_by.append('cast(first_fetches.fetched_at as date)') %}
    {{ member.publisher }}_with_provenance as (
        select
            '{{ member.publisher }}' as publisher,
            observations.indicator_code,
            observations.country_iso3,
            observations.period,
            observations.value,
            {{ unit }} as unit,
            first_fetches.fetched_at,
            observations.snapshot_sha256,
            first_fetches.request_url as source_url,
            first_fetches.origin,
            {%- for column in extra_columns %}
                observations.{{ column }},
            {%- endfor %}
            coalesce({{ dated_by | join(', ') }}) as vintage
        from {{ rows_of.get(member.model) or ref(member.model) }} as observations
        inner join first_fetches
            on
                observations.snapshot_sha256 = first_fetches.snapshot_sha256
                and first_fetches.publisher = '{{ member.publisher }}'
                and first_fetches.fetch_order = 1
        where
            {% for column in member.required -%}
                observations.{{ column }} is not null and
            {% endfor -%}
            true
    ),
{% endfor %}

unioned as (
    {%- for member in members %}
        {%- if not loop.first %}
            union all
        {%- endif %}
        select * from {{ member.publisher }}_with_provenance
    {%- endfor %}
),

-- What each number is (its origin) decides what its vintage may claim: a figure compiled from the paper is "as
-- printed in the paper" (dated by the paper's publication, var paper_published), never a publisher's release.
final as (
    select
        publisher,
        indicator_code,
        country_iso3,
        period,
        value,
        unit,
        fetched_at,
        snapshot_sha256,
        source_url,
        origin,
        {%- for column in extra_columns %}
            {{ column }},
        {%- endfor %}
        case
            when origin = 'compiled_from_paper' then cast('{{ var("paper_published") }}' as date)
            else vintage
        end as vintage,
        case
            when origin = 'compiled_from_paper'
                then 'as printed in the paper ({{ var("paper_published")[:7] }})'
            -- no release date in the bytes or the response: the vintage falls back to the day the bytes came in
            when vintage = cast(fetched_at as date)
                then 'no release date stated (taken in ' || cast(vintage as varchar) || ')'
            else 'release ' || cast(vintage as varchar)
        end as vintage_label
    from unioned
)

select * from final
{%- endmacro %}
