{#- The staging models that join int_observations__published: every model whose yml declares
    `config: meta: observations: {...}`, sorted by name. Each member is a dict:
      model                  the staging model (columns indicator_code, country_iso3, period, value, unit,
                             snapshot_sha256, release_date)
      publisher              the raw.snapshots source of its rows (default: the <publisher> of stg_<publisher>__*)
      release_date_of_fetch  true: a row without a release date of its own takes the fetch's (the response's
                             Last-Modified) before the fetch date
      required               columns that must be non-null for a row to be an observation (cells loaded whole)
      unit_from_name         a column whose trailing "(...)" names the unit where `unit` is empty
      revisions              a macro that, given new snapshots (a SQL list of hashes), names each one's predecessor
                             by indicator and gives its rows that differ from it (macro worldbank_revisions: what
                             it returns); int_observations__vintaged compares only those rows with the figures held
    dbt records a model's dependencies while parsing, before the graph exists: there the members are the var
    observation_models (unionstat.transform passes it, read from the same ymls; dbt_project.yml's default serves
    dbt run by hand, and tests/test_inventory.py keeps it equal to the ymls). When the graph exists the ymls
    decide, and a member missing from the var stops the build naming it. -#}
{% macro observation_members() -%}
    {%- set declared = var('observation_models') -%}
    {%- if declared is string -%}{%- set declared = [declared] -%}{%- endif -%}  {#- one model named on the command line -#}
    {%- if not execute -%}
        {{ return(_observation_member_list(declared, {})) }}
    {%- endif -%}
    {%- set found = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- set options = (node.config.meta or {}).get('observations') -%}
        {%- if options is not none -%}
            {%- do found.update({node.name: options}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if found.keys() | sort != declared | sort -%}
        {{ exceptions.raise_compiler_error(
            "int_observations__published: the staging models declaring meta.observations are "
            ~ (found.keys() | sort) ~ " but var observation_models names " ~ (declared | sort)
            ~ " (unionstat passes the var from the ymls; for dbt run by hand, dbt_project.yml's default)"
        ) }}
    {%- endif -%}
    {{ return(_observation_member_list(found.keys() | sort, found)) }}
{%- endmacro %}

{% macro _observation_member_list(models, options) -%}
    {%- set members = [] -%}
    {%- for model in models -%}
        {%- set declared = options.get(model) or {} -%}
        {%- do members.append({
            'model': model,
            'publisher': declared.get('publisher') or (model[4:].split('__')[0] if model.startswith('stg_') else model),
            'release_date_of_fetch': declared.get('release_date_of_fetch', false),
            'required': declared.get('required', []),
            'unit_from_name': declared.get('unit_from_name'),
            'revisions': declared.get('revisions'),
        }) -%}
    {%- endfor -%}
    {{ return(members) }}
{%- endmacro %}
