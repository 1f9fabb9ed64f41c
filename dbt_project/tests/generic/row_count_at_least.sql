{#- Fails with one row (the count found) when the model holds fewer than `min_value` rows. -#}
{% test row_count_at_least(model, min_value) %}
    select count(*) as row_count
    from {{ model }}
    having count(*) < {{ min_value }}
{% endtest %}
