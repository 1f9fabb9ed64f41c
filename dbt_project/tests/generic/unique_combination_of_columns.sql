{#- Fails with one row per combination of `columns` that occurs more than once (written here: dbt deps is offline).
    written_by_this_build / new_snapshots_only: check only what this build changed; full_build_only: only in a full
    build (macro rows_this_build_changed).
    First the key hashes that repeat (a grouping on one 8-byte number), then the combinations themselves only among
    the rows holding one: grouping 50M rows of a World Bank staging model by their text key ran out of DuckDB's
    500MB, or took 12 s, where the two steps took 5 s (docs/PERFORMANCE.md, session 19). -#}
{% test unique_combination_of_columns(model, columns, written_by_this_build=false, new_snapshots_only=false,
    full_build_only=false) %}
    {%- set changed = rows_this_build_changed(written_by_this_build, new_snapshots_only, full_build_only) %}
    with repeated_hashes as (
        select {{ key_hash(columns) }} as key_hash
        from {{ model }}
        where {{ changed }}
        group by {{ key_hash(columns) }}
        having count(*) > 1
    )

    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    where
        {{ changed }}
        and {{ key_hash(columns) }} in (select repeated_hashes.key_hash from repeated_hashes)
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
