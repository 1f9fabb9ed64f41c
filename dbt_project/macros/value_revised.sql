{#- Releases write one figure at different precisions: the World Bank's R&D share of Belarus for 2018 is
    0.604430019855499 in the 2025-04-15 file and 0.60443 in the 2026-07-13 one, and the older file's values are
    single-precision floats (Russia 2003: 1.28603005409241, then 1.28604). A revision is a change a person would
    read: the two values differ by more than one unit in the last decimal of the less precise of them (the
    decimals of its shortest round-trip text, `number_text`), or one side is missing. So 0.604430019855499 ->
    0.60443 and 1.28603005409241 -> 1.28604 are one value written twice, and Russia's 2021 R&D share 0.95857 ->
    0.96602 is a revision. -#}
{% macro value_revised(new, old) -%}
    (
        ({{ new }} is null) <> ({{ old }} is null)
        or (
            {{ new }} is not null
            and abs({{ new }} - {{ old }})
            > power(10.0, -least({{ printed_decimals(new) }}, {{ printed_decimals(old) }})) * (1 + 1e-9)
        )
    )
{%- endmacro %}

{#- The decimals a double was written with: those of its shortest round-trip text (scientific notation: 17). -#}
{% macro printed_decimals(x) -%}
    case
        when lower({{ number_text(x) }}) like '%e%' then 17
        when position('.' in {{ number_text(x) }}) = 0 then 0
        else length(rtrim({{ number_text(x) }}, '0')) - position('.' in {{ number_text(x) }})
    end
{%- endmacro %}
