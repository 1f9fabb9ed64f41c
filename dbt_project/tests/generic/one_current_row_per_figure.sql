{#- Fails with each figure (publisher, indicator, country, period) that has no current row, several, or a current
    row that is not its newest vintage. Checks the figures this build wrote (a figure is written whole: its rows
    share `taken_in_at`); a full build writes every figure. -#}
{% test one_current_row_per_figure(model) %}
    select
        publisher,
        indicator_code,
        country_iso3,
        period,
        sum(case when is_current then 1 else 0 end) as current_rows
    from {{ model }}
    where taken_in_at = {{ build_stamp() }}
    group by publisher, indicator_code, country_iso3, period
    having
        sum(case when is_current then 1 else 0 end) != 1
        or max(case when is_current then vintage end) != max(vintage)
{% endtest %}
