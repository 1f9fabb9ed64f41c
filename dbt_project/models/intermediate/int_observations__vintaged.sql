{#- Every value each figure (publisher, indicator, country, period) has had: a row for the first release that
    published the figure and for each release that changed its value or unit. A release that repeats a figure
    adds no row here (int_observations__published holds every release whole). `is_current` marks each figure's
    newest row. A value written at another precision is no change (`value_revised`).
    Incremental, keyed by figure: a build reads only the rows of snapshots it has not taken in, and rewrites only
    the figures whose value or unit they change.
    - On time (the usual case): a figure gets one new row, from a release newer than every release of its
      indicator taken in before. It is compared with the figure's current row: a join, no window over history.
    - Late: an older release, the same release again, or several rows for a figure in one build. The figures
      they touch are recomputed from every release, as a full build computes all of them. -#}
-- depends_on: {{ ref('int_observations__taken_in') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['publisher', 'indicator_code', 'country_iso3', 'period'],
) }}

-- `not materialized`: a CTE read twice is otherwise materialised whole (every column of every incoming row);
-- scanning the raw rows again costs less.
with published as not materialized (
    select * from {{ ref('int_observations__published') }}
),

{% if is_incremental() %}
    taken_in as (
        select * from {{ ref('int_observations__taken_in') }}
    ),

    -- The snapshots this build takes in (int_observations__taken_in stamps them with the build's start).
    new_snapshots as (
        select
            publisher,
            indicator_code,
            snapshot_sha256,
            min_vintage
        from taken_in
        where taken_in_at = {{ build_stamp() }}
    ),
{% endif %}

-- The rows of the snapshots this build takes in (a full build: every row).
incoming as not materialized (
    select published.*
    from published
    {% if is_incremental() %}
        inner join new_snapshots
            on
                published.snapshot_sha256 = new_snapshots.snapshot_sha256
                and published.publisher = new_snapshots.publisher
                and published.indicator_code = new_snapshots.indicator_code
    {% endif %}
),

{% if is_incremental() %}
    -- Indicators with a new snapshot not newer than every release of theirs taken in before.
    late_indicators as (
        select
            new_snapshots.publisher,
            new_snapshots.indicator_code
        from new_snapshots
        inner join taken_in as earlier
            on
                new_snapshots.publisher = earlier.publisher
                and new_snapshots.indicator_code = earlier.indicator_code
                and earlier.taken_in_at < {{ build_stamp() }}
        group by new_snapshots.publisher, new_snapshots.indicator_code
        having min(new_snapshots.min_vintage) <= max(earlier.max_vintage)
    ),

    -- Figures of those indicators, and figures with several incoming rows: recomputed from every release.
    late_figures as (
        select
            incoming.publisher,
            incoming.indicator_code,
            incoming.country_iso3,
            incoming.period
        from incoming
        inner join late_indicators
            on
                incoming.publisher = late_indicators.publisher
                and incoming.indicator_code = late_indicators.indicator_code
        union
        select
            publisher,
            indicator_code,
            country_iso3,
            period
        from incoming
        group by publisher, indicator_code, country_iso3, period
        having count(*) > 1
    ),

    history as (
        select published.*
        from published
        inner join late_figures
            on {{ same_figure('published', 'late_figures') }}
    ),

    on_time as (
        select incoming.*
        from incoming
        where not exists (
            select 1
            from late_figures
            where {{ same_figure('late_figures', 'incoming') }}
        )
    ),

    -- Only what the comparison reads: the hash table holds a row per figure.
    held_current as (
        select
            held.publisher,
            held.indicator_code,
            held.country_iso3,
            held.period,
            held.value,
            held.unit
        from {{ this }} as held
        where held.is_current
    ),

    -- An on-time row is a change when its figure is new, or its value or unit differs from the current row's.
    on_time_changes as (
        select {{ observation_columns('on_time') }}
        from on_time
        left join held_current
            on {{ same_figure('held_current', 'on_time') }}
        where
            held_current.publisher is null
            or {{ value_revised('on_time.value', 'held_current.value') }}
            or on_time.unit is distinct from held_current.unit
    ),

    -- A changed figure is rewritten whole (delete+insert by figure): its rows held so far go in again.
    held_rows as (
        select {{ observation_columns('held') }}
        from {{ this }} as held
        inner join on_time_changes
            on {{ same_figure('held', 'on_time_changes') }}
    ),
{% else %}
    history as (
        select * from incoming
    ),
{% endif %}

-- The same release can arrive twice (an API page and a bulk CSV): keep the latest fetch of each figure.
ranked as (
    select
        *,
        row_number() over (
            partition by publisher, indicator_code, country_iso3, period, vintage
            order by fetched_at desc, snapshot_sha256 asc
        ) as fetch_rank
    from history
),

sequenced as (
    select
        *,
        row_number() over figure as sequence_number,
        lag(value) over figure as previous_value,
        lag(unit) over figure as previous_unit
    from ranked
    where fetch_rank = 1
    window figure as (partition by publisher, indicator_code, country_iso3, period order by vintage)
),

changes as (
    select *
    from sequenced
    where
        sequence_number = 1
        or {{ value_revised('value', 'previous_value') }}
        or unit is distinct from previous_unit
),

recomputed as (
    select
        {{ observation_columns() }},
        vintage = max(vintage) over (
            partition by publisher, indicator_code, country_iso3, period
        ) as is_current
    from changes
),

figure_rows as (
    select * from recomputed
    {% if is_incremental() %}
        union all
        select
            {{ observation_columns() }},
            true as is_current
        from on_time_changes
        union all
        select
            {{ observation_columns() }},
            false as is_current
        from held_rows
    {% endif %}
),

final as (
    select
        *,
        {{ build_stamp() }} as taken_in_at
    from figure_rows
)

select * from final
