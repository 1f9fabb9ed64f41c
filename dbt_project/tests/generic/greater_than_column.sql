{#- Fails with each row whose `column_name` is not greater than `other_column` (rows where either is null are
    not checked). -#}
{% test greater_than_column(model, column_name, other_column) %}
    select *
    from {{ model }}
    where {{ column_name }} <= {{ other_column }}
{% endtest %}
