{#- A post-hook, outside the model's transaction: DuckDB holds what a model's delete+insert wrote in its memory
    until a checkpoint writes it to the database file, and every model built after it has that much less of
    DuckDB's memory_limit. Seen at 25M observations under DuckDB 500MB: the revision's int_observations__vintaged
    and int_observations__as_of left 408 MB held (duckdb_memory(): BASE_TABLE) when mart_revisions started, which
    then ran out of memory in a second; with a checkpoint after each intermediate model, 176 MB, and the build
    completed. Other databases: nothing to do. -#}
{% macro checkpoint_after_write() -%}
    {%- if target.type == 'duckdb' -%}
        checkpoint
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
