{#- One row per snapshot and indicator that int_observations__vintaged has taken in: the vintages the snapshot holds
    for the indicator, its rows, and the build that took it in. Incremental (append): a build adds only the
    snapshots it has not seen; int_observations__vintaged compares a build's new snapshots with the earlier ones
    to choose how much it recomputes. -#}
{#- predecessor_sha256: for a publisher that tells a release's revisions (option `revisions`, macro
    observation_members), the release it compared this snapshot's indicator with; int_observations__revised holds
    the rows that differ from it. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='append_new_columns',
) }}
-- What the World Bank's revisions read (macro worldbank_revisions; dbt records dependencies before the options):
-- depends_on: {{ source('worldbank', 'worldbank_bulk') }}
{%- set revising = observation_members() | selectattr('revisions') | list if target.type == 'duckdb' else [] %}
{#- An incremental build names its new snapshots in the SQL: DuckDB filters a constant list where it reads each raw
    table, before the staging views unnest it (a join with new_snapshots came after: every release kept was
    unnested again). -#}
{%- set new_shas = [] %}
{%- set held_table = adapter.get_relation(this.database, this.schema, this.identifier) if is_incremental() and execute %}
{%- if held_table %}
    {%- set new_shas = run_query(
        'select snapshot_sha256 from ' ~ ref('stg_unionstat__snapshots') ~ ' where snapshot_sha256 not in '
        ~ '(select held.snapshot_sha256 from ' ~ held_table ~ ' as held) order by 1'
    ).columns[0].values() | list %}
{%- endif %}

with published as (
    select * from {{ ref('int_observations__published') }}
),

snapshots as (
    select * from {{ ref('stg_unionstat__snapshots') }}
),

{% if is_incremental() %}
    held as (
        select distinct snapshot_sha256 from {{ this }}
    ),
{% endif %}

-- Snapshots not taken in yet (all of them in a full build): a short list to filter the publishers' rows with.
new_snapshots as (
    select snapshots.snapshot_sha256
    from snapshots
    {% if is_incremental() %}
        where snapshots.snapshot_sha256 not in (select held.snapshot_sha256 from held)
    {% endif %}
),

by_indicator as (
    select
        published.publisher,
        published.indicator_code,
        published.snapshot_sha256,
        min(published.vintage) as min_vintage,
        max(published.vintage) as max_vintage,
        count(*) as observations
    from published
    inner join new_snapshots
        on published.snapshot_sha256 = new_snapshots.snapshot_sha256
    {% if is_incremental() %}
        where {{ 'published.snapshot_sha256 in (' ~ sql_strings(new_shas) ~ ')' if new_shas else 'false' }}
    {% endif %}
    group by published.publisher, published.indicator_code, published.snapshot_sha256
),

predecessors as (
    {%- for member in revising %}
        select
            '{{ member.publisher }}' as publisher,
            told.snapshot_sha256,
            told.indicator_code,
            told.predecessor_sha256
        from (
            {{ context[member.revisions]('(select list(snapshot_sha256) from new_snapshots)').predecessors }}
        ) as told
        union all
    {%- endfor %}
    select
        cast(null as varchar) as publisher,
        cast(null as varchar) as snapshot_sha256,
        cast(null as varchar) as indicator_code,
        cast(null as varchar) as predecessor_sha256
    where false
),

final as (
    select
        by_indicator.*,
        {{ build_stamp() }} as taken_in_at,
        predecessors.predecessor_sha256
    from by_indicator
    left join predecessors
        on
            by_indicator.publisher = predecessors.publisher
            and by_indicator.snapshot_sha256 = predecessors.snapshot_sha256
            and by_indicator.indicator_code = predecessors.indicator_code
)

select * from final
