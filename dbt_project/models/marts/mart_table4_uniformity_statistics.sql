{#- Table 4's test statistics that need no distribution function: chi-square statistic, df, exact multinomial p. -#}
{#- Enumerating every outcome is exact but grows as C(n + k - 1, k - 1): above this many outcomes it is skipped. -#}
{% set max_exact_outcomes = 1000000 %}

with recursive sectors as (
    select * from {{ ref('mart_table4_uniformity_by_sector') }}
),

params as (
    select
        cast(sum(observed) as integer) as n,
        cast(count(*) as integer) as k,
        sum(chi_square_contribution) as statistic,
        min(expected) as min_expected,
        count(*) filter (where expected_below_5) as expected_below_5,
        -- log of the probability of the observed outcome under the uniform null
        {{ log_factorial('sum(observed)') }} - sum({{ log_factorial('observed') }}) - sum(observed) * ln(count(*))
            as log_p_observed,
        string_agg(sector_label || ': ' || cast(observed as varchar), ', ' order by display_order) as observed_text,
        exp(
            {{ log_factorial('sum(observed) + count(*) - 1') }}
            - {{ log_factorial('count(*) - 1') }}
            - {{ log_factorial('sum(observed)') }}
        ) as outcome_count
    from sectors
),

counts as (
    select cast(numbers.x as integer) as x
    from params
    cross join generate_series(0, params.n) as numbers (x)
),

-- every way to put n initiatives into k sectors, built one sector at a time
outcomes as (
    select
        0 as sector_position,
        0 as allocated,
        cast(0 as double precision) as log_denominator
    union all
    select
        outcomes.sector_position + 1 as sector_position,
        outcomes.allocated + counts.x as allocated,
        outcomes.log_denominator + {{ log_factorial('counts.x') }} as log_denominator
    from outcomes
    cross join counts
    cross join params
    where
        outcomes.sector_position < params.k
        and outcomes.allocated + counts.x <= params.n
        and params.outcome_count <= {{ max_exact_outcomes }}
),

complete_outcomes as (
    select
        exp({{ log_factorial('params.n') }} - outcomes.log_denominator - params.n * ln(params.k)) as probability,
        {{ log_factorial('params.n') }} - outcomes.log_denominator - params.n * ln(params.k) as log_probability
    from outcomes
    cross join params
    where outcomes.sector_position = params.k and outcomes.allocated = params.n
),

-- exact p: the probability of every outcome no more likely than the observed one (relative tolerance 1e-7)
exact as (
    select
        sum(complete_outcomes.probability) filter (
            where complete_outcomes.log_probability <= params.log_p_observed + 1e-7
        ) as exact_p_value,
        count(*) as outcomes_enumerated
    from complete_outcomes
    cross join params
),

final as (
    select
        'joint_initiatives_uniformity' as test_id,
        'The distribution of joint initiatives is uniform across sectors' as null_hypothesis,
        params.observed_text,
        params.n,
        params.k,
        cast(params.n as double precision) / params.k as expected_frequency,
        {{ round_to('params.statistic', 4) }} as statistic,
        params.statistic as statistic_unrounded,
        params.k - 1 as df,
        params.min_expected,
        params.expected_below_5,
        case
            when params.expected_below_5 > 0
                then
                    cast(params.expected_below_5 as varchar) || ' of ' || cast(params.k as varchar)
                    || ' expected counts are below 5 (expected ' || {{ number_text(round_to('params.min_expected', 4)) }}
                    || '): the chi-square approximation does not hold; use the exact multinomial p-value'
        end as assumption_warning,
        case when params.outcome_count <= {{ max_exact_outcomes }} then {{ round_to('exact.exact_p_value', 6) }} end
            as exact_multinomial_p_value,
        exact.outcomes_enumerated
    from params
    cross join exact
)

select * from final
