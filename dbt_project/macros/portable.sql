{#- Engine-specific SQL behind one name each, so the models build on DuckDB and on PostgreSQL with the same results.
    Each macro dispatches to duckdb__<name> (the warehouse) or postgres__<name> (a server engine); arguments and
    results are SQL expressions. -#}

{#- The `group`-th capture of the first match of `pattern` in `string`; '' when there is no match (DuckDB's rule). -#}
{% macro regex_extract(string, pattern, group) -%}
    {{ return(adapter.dispatch('regex_extract')(string, pattern, group)) }}
{%- endmacro %}

{% macro duckdb__regex_extract(string, pattern, group) -%}
    regexp_extract({{ string }}, {{ pattern }}, {{ group }})
{%- endmacro %}

{% macro postgres__regex_extract(string, pattern, group) -%}
    coalesce((regexp_match({{ string }}, {{ pattern }}))[{{ group }}], '')
{%- endmacro %}

{#- Does `pattern` match anywhere in `string`? -#}
{% macro regex_contains(string, pattern) -%}
    {{ return(adapter.dispatch('regex_contains')(string, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_contains(string, pattern) -%}
    regexp_matches({{ string }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regex_contains(string, pattern) -%}
    ({{ string }} ~ {{ pattern }})
{%- endmacro %}

{#- Does `pattern` match the whole of `string`? -#}
{% macro regex_full_match(string, pattern) -%}
    {{ return(adapter.dispatch('regex_full_match')(string, pattern)) }}
{%- endmacro %}

{% macro duckdb__regex_full_match(string, pattern) -%}
    regexp_full_match({{ string }}, {{ pattern }})
{%- endmacro %}

{% macro postgres__regex_full_match(string, pattern) -%}
    ({{ string }} ~ ('^(?:' || {{ pattern }} || ')$'))
{%- endmacro %}

{#- Any Unicode letter, written to sit inside a bracket expression: `[^{{ regex_letter() }}]` is a non-letter. -#}
{% macro regex_letter() -%}
    {{ return(adapter.dispatch('regex_letter')()) }}
{%- endmacro %}

{% macro duckdb__regex_letter() -%}
    \pL
{%- endmacro %}

{#- PostgreSQL's classes follow the database locale: the letters of every script under a UTF-8 locale. -#}
{% macro postgres__regex_letter() -%}
    [:alpha:]
{%- endmacro %}

{#- The SHA-256 of a text's UTF-8 bytes, as 64 lowercase hex digits. -#}
{% macro sha256_hex(string) -%}
    {{ return(adapter.dispatch('sha256_hex')(string)) }}
{%- endmacro %}

{% macro duckdb__sha256_hex(string) -%}
    sha256({{ string }})
{%- endmacro %}

{% macro postgres__sha256_hex(string) -%}
    encode(sha256(convert_to({{ string }}, 'UTF8')), 'hex')
{%- endmacro %}

{#- A JSON array of strings (text) as a list of varchar, in order; null stays null. -#}
{% macro json_string_list(json_text) -%}
    {{ return(adapter.dispatch('json_string_list')(json_text)) }}
{%- endmacro %}

{% macro duckdb__json_string_list(json_text) -%}
    cast(from_json({{ json_text }}, '["VARCHAR"]') as varchar[])
{%- endmacro %}

{% macro postgres__json_string_list(json_text) -%}
    case
        when {{ json_text }} is not null
            then cast(array(
                select element.value
                from jsonb_array_elements_text(cast({{ json_text }} as jsonb)) with ordinality as element (value, position)
                order by element.position
            ) as varchar[])
    end
{%- endmacro %}

{#- ln(n!) for a whole number n >= 0 (lgamma(n + 1)). -#}
{% macro log_factorial(n) -%}
    {{ return(adapter.dispatch('log_factorial')(n)) }}
{%- endmacro %}

{% macro duckdb__log_factorial(n) -%}
    lgamma(({{ n }}) + 1)
{%- endmacro %}

{#- PostgreSQL before 18 has no lgamma: the exact factorial (numeric), then its logarithm. -#}
{% macro postgres__log_factorial(n) -%}
    cast(ln(factorial(cast({{ n }} as bigint))) as double precision)
{%- endmacro %}

{#- Is a double neither NaN nor infinite? (DuckDB's corr() gives NaN where PostgreSQL's gives null.) -#}
{% macro is_finite(x) -%}
    {{ return(adapter.dispatch('is_finite')(x)) }}
{%- endmacro %}

{% macro duckdb__is_finite(x) -%}
    isfinite({{ x }})
{%- endmacro %}

{% macro postgres__is_finite(x) -%}
    (cast({{ x }} as double precision) not in ('NaN', 'Infinity', '-Infinity'))
{%- endmacro %}

{#- `x` rounded to `decimals` places, half away from zero; PostgreSQL rounds only numerics to a number of places. -#}
{% macro round_to(x, decimals) -%}
    {{ return(adapter.dispatch('round_to')(x, decimals)) }}
{%- endmacro %}

{% macro duckdb__round_to(x, decimals) -%}
    round({{ x }}, {{ decimals }})
{%- endmacro %}

{% macro postgres__round_to(x, decimals) -%}
    cast(round(cast({{ x }} as numeric), {{ decimals }}) as double precision)
{%- endmacro %}

{#- A number as text the way DuckDB casts a double: shortest round-trip digits, whole numbers with '.0'. -#}
{% macro number_text(x) -%}
    {{ return(adapter.dispatch('number_text')(x)) }}
{%- endmacro %}

{% macro duckdb__number_text(x) -%}
    cast({{ x }} as varchar)
{%- endmacro %}

{% macro postgres__number_text(x) -%}
    case
        when cast({{ x }} as double precision) = trunc(cast({{ x }} as double precision))
            and abs(cast({{ x }} as double precision)) < 1e15
            then cast(cast(cast({{ x }} as double precision) as bigint) as varchar) || '.0'
        else cast(cast({{ x }} as double precision) as varchar)
    end
{%- endmacro %}

{#- The number of elements of a list (DuckDB) or one-dimensional array (PostgreSQL); null stays null. -#}
{% macro list_length(list) -%}
    {{ return(adapter.dispatch('list_length')(list)) }}
{%- endmacro %}

{% macro duckdb__list_length(list) -%}
    len({{ list }})
{%- endmacro %}

{% macro postgres__list_length(list) -%}
    cardinality({{ list }})
{%- endmacro %}

{#- In a select list beside unnest(list): the positions 1..n of the list's elements, in step with them (one row
    each). DuckDB unnests a range; PostgreSQL (10 and later) runs set-returning functions of a select list in step. -#}
{% macro list_positions(list) -%}
    {{ return(adapter.dispatch('list_positions')(list)) }}
{%- endmacro %}

{% macro duckdb__list_positions(list) -%}
    unnest(range(1, len({{ list }}) + 1))
{%- endmacro %}

{% macro postgres__list_positions(list) -%}
    generate_subscripts({{ list }}, 1)
{%- endmacro %}

{#- A number standing for the values of `columns` (a list of column names): rows with the same values get the same
    number; two different values may too, rarely (a hash), so it narrows a search and never decides one. -#}
{% macro key_hash(columns) -%}
    {{ return(adapter.dispatch('key_hash')(columns)) }}
{%- endmacro %}

{% macro duckdb__key_hash(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{% macro postgres__key_hash(columns) -%}
    hashtextextended(row({{ columns | join(', ') }})::text, 0)
{%- endmacro %}
