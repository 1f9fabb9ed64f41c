{#- The rows a build's new snapshots revised: for a publisher that tells a release's revisions (option `revisions`,
    macro observation_members), the rows of each new snapshot's indicator that differ from the release it was
    compared with (int_observations__taken_in.predecessor_sha256), with the provenance int_observations__published
    gives every row. int_observations__vintaged compares only these with the figures it holds when that release is
    the one it took in last. A table, rebuilt by every build: its own size is what the optimiser plans with.
    Empty when int_observations__vintaged is built whole (its first build, or --full-refresh). -#}
{{ config(materialized='table') }}
{%- set revising = observation_members() | selectattr('revisions') | list if target.type == 'duckdb' else [] %}
{%- set vintaged = adapter.get_relation(this.database, 'intermediate', 'int_observations__vintaged') if execute %}
{%- set new_shas, predecessor_shas = [], [] %}
{%- if revising and vintaged and not flags.FULL_REFRESH %}
    {#- Named in the SQL, with the releases they were compared with: the raw layer's table macros filter their scans
        by the lists. -#}
    {%- set found = run_query(
        'select distinct snapshot_sha256, predecessor_sha256 from ' ~ ref('int_observations__taken_in')
        ~ ' where taken_in_at = ' ~ build_stamp() ~ ' and predecessor_sha256 is not null order by 1, 2'
    ) %}
    {%- set new_shas = found.columns[0].values() | unique | list %}
    {%- set predecessor_shas = found.columns[1].values() | unique | list %}
{%- endif %}
{%- set shas = sql_string_list(new_shas) %}
{%- set earlier = sql_string_list(predecessor_shas) %}
{%- set rows_of = {} %}
{%- for member in revising %}
    {%- do rows_of.update({member.model: context[member.revisions](shas, earlier).rows}) %}
{%- endfor %}
-- depends_on: {{ ref('int_observations__taken_in') }}
-- What the World Bank's revisions read (macro worldbank_revisions; dbt records dependencies before the options):
-- depends_on: {{ ref('stg_unionstat__snapshots') }}
-- depends_on: {{ source('worldbank', 'worldbank_bulk') }}
{% if revising %}
    {{ published_observations(revising, rows_of=rows_of, extra_columns=['predecessor_sha256']) }}
{% else %}
    select
        {{ observation_columns() }},
        cast(null as varchar) as predecessor_sha256
    from {{ ref('int_observations__published') }}
    where false
{% endif %}
