{#- The paper's percent difference: how much higher the larger value is than the smaller, in percent.
    Undefined (null) when either side is missing or the smaller value is not positive. -#}
{% macro pct_difference(a, b) -%}
    case
        when {{ a }} is null or {{ b }} is null or least({{ a }}, {{ b }}) <= 0 then null
        else (greatest({{ a }}, {{ b }}) - least({{ a }}, {{ b }})) / least({{ a }}, {{ b }}) * 100
    end
{%- endmacro %}

{#- Does `value` round to `printed` at the number of decimals the paper printed? -#}
{% macro matches_printed(value, printed, decimals) -%}
    (abs({{ value }} - {{ printed }}) <= 0.5 * power(10, -{{ decimals }}) + 1e-9)
{%- endmacro %}
