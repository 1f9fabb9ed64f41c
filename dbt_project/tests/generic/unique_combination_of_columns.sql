{#- Fails with one row per combination of `columns` that occurs more than once (written here: dbt deps is offline).
    written_by_this_build / new_snapshots_only: check only what this build changed (macro rows_this_build_changed). -#}
{% test unique_combination_of_columns(model, columns, written_by_this_build=false, new_snapshots_only=false) %}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    where {{ rows_this_build_changed(written_by_this_build, new_snapshots_only) }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
