{#- Does a loaded cell match one of the registry's selections (scrapers/sources.json "selections", in
    stg_unionstat__selections)? Every pattern the selection sets must match its field; a null pattern matches
    anything. Staging of each publisher whose tables load whole joins its cells to the selections on this. -#}
{% macro matches_selection(cell, selection) -%}
    {%- set fields = [
        ('sheet_name', 'sheet_pattern'),
        ('table_title', 'title_pattern'),
        ('row_label', 'row_label_pattern'),
        ('row_code', 'row_code_pattern'),
        ('column_header', 'column_header_pattern'),
    ] -%}
    (
        {%- for field, pattern in fields %}
            ({{ selection }}.{{ pattern }} is null
            or {{ regex_contains(cell ~ '.' ~ field, selection ~ '.' ~ pattern) }}){{ ' and' if not loop.last }}
        {%- endfor %}
    )
{%- endmacro %}
