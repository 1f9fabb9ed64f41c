{#- Values written into SQL as string literals, comma-separated ('a', 'b'; a quote doubled): what a test or model
    names at compile time (accepted values, the snapshots taken in) for DuckDB to filter where it reads. -#}
{% macro sql_strings(values) -%}
    {%- set quoted = [] -%}
    {%- for value in values -%}
        {%- do quoted.append("'" ~ (value | string | replace("'", "''")) ~ "'") -%}
    {%- endfor -%}
    {{ return(quoted | join(', ')) }}
{%- endmacro %}

{#- ... as a DuckDB list of text, `cast([] as varchar[])` when there is none (what the raw layer's macros take). -#}
{% macro sql_string_list(values) -%}
    {{ return('[' ~ sql_strings(values) ~ ']' if values else 'cast([] as varchar[])') }}
{%- endmacro %}
