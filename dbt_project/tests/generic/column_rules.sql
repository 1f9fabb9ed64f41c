{#- A model's (or seed's, or source table's) single-column rules in one test: each row that breaks one, once per
    rule it breaks, with the column (`failed_column`) and the rule (`failed_rule`) in front of the row's own columns.

      not_null:        [column, ...]                          the column holds a value
      accepted_values: {column: [value, ...]}                 the value is one of these (compared as text; nulls pass)
      accepted_range:  {column: {min_value: 0, max_value: 100}}  within the bounds, either optional (nulls pass)
      unique:          [column, ...]                          no other row checked holds the value (nulls pass)

    The same rules as dbt's not_null, accepted_values and unique and the project's accepted_range, declared per model
    rather than per column: dbt spends about 45 ms on each test it runs whatever its size, so 254 one-column tests
    took about 12 s of a 27 s full build; the 64 tests that replace them, one per model, about 4 s (and a 10M
    revision's 13 unique tests about 0.2 s). A rule with its own severity or `where` stays a test of its own; so
    does uniqueness over several columns, or of a large model (unique_combination_of_columns: one aggregate, where
    this rule looks each row's value up among the values held twice).
    written_by_this_build / new_snapshots_only / full_build_only: check only the rows this build changed, or only in
    a full build, as unique_combination_of_columns does (macro rows_this_build_changed). -#}
{% test column_rules(model, not_null=[], accepted_values={}, accepted_range={}, unique=[], written_by_this_build=false,
    new_snapshots_only=false, full_build_only=false) %}
    {{ config(store_failures=true) }}  {#- the failing rows, named by column and rule, outlive a failed build -#}
    {%- set checks = [] -%}
    {%- for column in not_null -%}
        {%- do checks.append((column, 'not_null', 'checked.' ~ column ~ ' is null')) -%}
    {%- endfor -%}
    {%- for column, values in accepted_values.items() -%}
        {%- do checks.append((column, 'accepted_values',
            'cast(checked.' ~ column ~ ' as varchar) not in (' ~ sql_strings(values) ~ ')')) -%}
    {%- endfor -%}
    {%- for column, bounds in accepted_range.items() -%}
        {%- set outside = [] -%}
        {%- if bounds.get('min_value') is not none -%}
            {%- do outside.append('checked.' ~ column ~ ' < ' ~ bounds['min_value']) -%}
        {%- endif -%}
        {%- if bounds.get('max_value') is not none -%}
            {%- do outside.append('checked.' ~ column ~ ' > ' ~ bounds['max_value']) -%}
        {%- endif -%}
        {%- do checks.append((column, 'accepted_range', '(' ~ outside | join(' or ') ~ ')')) -%}
    {%- endfor -%}
    {%- set changed = rows_this_build_changed(written_by_this_build, new_snapshots_only, full_build_only) -%}
    {%- for column in unique -%}
        {%- do checks.append((column, 'unique', 'checked.' ~ column ~ ' in (select ' ~ column ~ ' from ' ~ model
            ~ ' where ' ~ changed ~ ' group by ' ~ column ~ ' having count(*) > 1)')) -%}
    {%- endfor -%}
    {%- if not checks -%}
        {{ exceptions.raise_compiler_error("column_rules on " ~ model ~ ": no rule given") }}
    {%- endif %}
    {#- One pass over the model (a staging view is computed once), each row paired with the rules it breaks. #}
    select rules.failed_column, rules.failed_rule, checked.*
    from {{ model }} as checked
    inner join (
        {%- for column, rule, broken in checks %}
        {% if not loop.first %}union all {% endif -%}
        select {{ loop.index }} as rule_number, '{{ column }}' as failed_column, '{{ rule }}' as failed_rule
        {%- endfor %}
    ) as rules
        on case rules.rule_number
            {%- for column, rule, broken in checks %}
            when {{ loop.index }} then {{ broken }}
            {%- endfor %}
        end
    where {{ changed }}
{% endtest %}
