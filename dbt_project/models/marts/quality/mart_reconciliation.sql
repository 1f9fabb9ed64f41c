{#- Where two publishers report the same figure: both values, how far apart, and whether within tolerance. -#}
with pairs as (
    select * from {{ ref('reconciliation_pairs') }}
),

observations as (
    select * from {{ ref('int_observations__as_of') }}
),

left_side as (
    select
        pairs.pair_id,
        numerator.country_iso3,
        numerator.period,
        numerator.vintage as left_vintage,
        numerator.snapshot_sha256 as left_snapshot_sha256,
        numerator.value / coalesce(denominator.value, 1) * pairs.left_multiplier as left_value
    from pairs
    inner join observations as numerator
        on
            pairs.left_publisher = numerator.publisher
            and pairs.left_indicator = numerator.indicator_code
    left join observations as denominator
        on
            pairs.left_publisher = denominator.publisher
            and pairs.left_denominator_indicator = denominator.indicator_code
            and numerator.country_iso3 = denominator.country_iso3
            and numerator.period = denominator.period
    where pairs.left_denominator_indicator is null or denominator.value is not null
),

right_side as (
    select
        pairs.pair_id,
        observations.country_iso3,
        observations.period,
        observations.value as right_value,
        observations.vintage as right_vintage,
        observations.snapshot_sha256 as right_snapshot_sha256
    from pairs
    inner join observations
        on
            pairs.right_publisher = observations.publisher
            and pairs.right_indicator = observations.indicator_code
),

final as (
    select
        pairs.pair_id,
        left_side.country_iso3,
        left_side.period,
        pairs.left_publisher,
        left_side.left_value,
        pairs.right_publisher,
        right_side.right_value,
        pairs.tolerance_pct,
        left_side.left_vintage,
        right_side.right_vintage,
        left_side.left_snapshot_sha256,
        right_side.right_snapshot_sha256,
        abs(left_side.left_value - right_side.right_value)
        / nullif(abs(right_side.right_value), 0) * 100 as difference_pct,
        coalesce(
            abs(left_side.left_value - right_side.right_value)
            <= pairs.tolerance_pct / 100 * abs(right_side.right_value),
            false
        ) as within_tolerance
    from left_side
    inner join right_side
        on
            left_side.pair_id = right_side.pair_id
            and left_side.country_iso3 = right_side.country_iso3
            and left_side.period = right_side.period
    inner join pairs on left_side.pair_id = pairs.pair_id
    where left_side.left_value is not null and right_side.right_value is not null
)

select * from final
