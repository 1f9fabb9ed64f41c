{#- Releases write one figure at different precisions: the World Bank's R&D share of Belarus for 2018 is
    0.604430019855499 in the 2025-04-15 file and 0.60443 in the 2026-07-13 one; Russia's 2023 GDP growth is
    3.60000000000001 in a file where the paper printed 3.6. A value is revised when it differs from the other by
    more than half a unit in the last decimal of the less precise of the two: the decimals of its shortest
    round-trip text (`number_text`), or, for a whole number (whose text shows no decimals whatever the file wrote),
    the other value's. So 0.604430019855499 -> 0.60443 and 3.60000000000001 -> 3.6 are one value written twice, while
    Russia's 2021 R&D share 0.95857 -> 0.96602, and 3.886 -> 4.0, are revisions. A value appearing or disappearing
    is one too. Equal values are never a revision, and most values of a new release equal the old ones: the `<>`
    comes first, so the decimals (two numbers written as text each) are worked out only for values that differ. -#}
{% macro value_revised(new, old) -%}
    (
        ({{ new }} is null) <> ({{ old }} is null)
        or (
            {{ new }} <> {{ old }}
            and abs({{ new }} - {{ old }})
            > 0.5 * power(10.0, -coalesce(least({{ printed_decimals(new) }}, {{ printed_decimals(old) }}), 17))
            * (1 + 1e-9)
        )
    )
{%- endmacro %}

{#- The decimals a double was written with: those of its shortest round-trip text (scientific notation: 17); null
    for a whole number, whose text cannot tell 4 from 4.0. -#}
{% macro printed_decimals(x) -%}
    case
        when {{ x }} = trunc({{ x }}) and abs({{ x }}) < 1e15 then null
        when lower({{ number_text(x) }}) like '%e%' then 17
        else length(rtrim({{ number_text(x) }}, '0')) - position('.' in {{ number_text(x) }})
    end
{%- endmacro %}
