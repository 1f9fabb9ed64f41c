{#- World Bank rows in stg_worldbank__observations' shape, from a relation in raw.worldbank_observations' long shape
    (an API page's rows, or a bulk CSV's cells as the raw layer's table macros unnest them): renamed only. -#}
{% macro worldbank_staged(relation, extra_columns=[]) -%}
    select
        snapshot_sha256,
        row_number as snapshot_row,
        indicator_id as indicator_code,
        indicator_name,
        countryiso3code as country_iso3,
        country_name,
        date as period,
        value,
        unit,
        obs_status,
        {%- for column in extra_columns %}
            {{ column }},
        {%- endfor %}
        lastupdated as release_date
    from {{ relation }}
{%- endmacro %}

{#- The World Bank's revisions (option `revisions` of stg_worldbank__observations, macro observation_members): for
    the bulk snapshots among `shas` (a SQL list of hashes),
    - predecessors: each snapshot's predecessor by indicator (snapshot_sha256, indicator_code, predecessor_sha256):
      the one bulk snapshot released last before it that holds the indicator;
    - rows: the cells of those indicators' lines that differ from the predecessor's line of the same country (every
      cell of a line the predecessor lacks or names otherwise), in the staging shape with predecessor_sha256.
    Every other cell of such a line holds the predecessor's value, unit and names. The raw layer's table macros do
    the comparison (raw.worldbank_bulk_predecessors, raw.worldbank_bulk_revised_rows: scrapers/worldbank.py).
    `predecessor_shas` (a SQL list, optional): the predecessors, where the caller knows them; the comparison then
    reads no other release. -#}
{% macro worldbank_revisions(shas, predecessor_shas=none) -%}
    {%- set raw_schema = source('worldbank', 'worldbank_bulk').schema -%}
    {{ return({
        'predecessors': 'select snapshot_sha256, indicator_code, predecessor_sha256 from '
            ~ raw_schema ~ '.worldbank_bulk_predecessors(' ~ shas ~ ')',
        'rows': '(' ~ worldbank_staged(raw_schema ~ '.worldbank_bulk_revised_rows(' ~ shas
            ~ (', predecessor_shas := ' ~ predecessor_shas if predecessor_shas else '') ~ ')', ['predecessor_sha256'])
            ~ ')',
    }) }}
{%- endmacro %}
