{#- Every value each figure (publisher, indicator, country, period) has had: a row for the first release that
    published the figure and for each release that changed its value or unit. A release that repeats a figure
    adds no row here (int_observations__published holds every release whole). `is_current` marks each figure's
    newest row. A value written at another precision is no change (`value_revised`).
    Incremental, keyed by figure: a build reads only the rows of snapshots it has not taken in, and rewrites only
    the figures whose value or unit they change.
    - On time (the usual case): a figure gets one new row, from a release newer than every release of its
      indicator taken in before. It is compared with the figure's current row: a join, no window over history.
      A publisher that can tell a release's revised rows (option `revisions`, macro observation_members: the World
      Bank's bulk CSVs, compared line by line with the release before) hands over only those when the release it
      compares with is the indicator's release taken in last, alone: every other row repeats that release's value,
      which is the figure's current one, and is no change.
    - Late: an older release, the same release again, or several rows for a figure in one build. The figures
      they touch are recomputed from every release, as a full build computes all of them. -#}
-- depends_on: {{ ref('int_observations__taken_in') }}
-- depends_on: {{ ref('int_observations__revised') }}
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
            min_vintage,
            max_vintage,
            predecessor_sha256
        from taken_in
        where taken_in_at = {{ build_stamp() }}
    ),

    -- Indicators with a new snapshot not newer than every release of theirs taken in before; and indicators whose
    -- figures can have several rows in this build: several new snapshots, or one holding several vintages. (Found
    -- by snapshot, not by counting each figure's rows: that count took a quarter of a 10M revision's select.)
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
        union
        select
            publisher,
            indicator_code
        from new_snapshots
        group by publisher, indicator_code
        having count(*) > 1 or min(min_vintage) < max(max_vintage)
    ),

    -- A new snapshot's indicator whose predecessor (the release it was compared with) is the indicator's
    -- release taken in last, alone and of one vintage; the snapshot itself on time, alone and of one vintage.
    latest_earlier as (
        select
            publisher,
            indicator_code,
            max(max_vintage) as max_vintage
        from taken_in
        where taken_in_at < {{ build_stamp() }}
        group by publisher, indicator_code
    ),

    latest_earlier_snapshots as (
        select
            earlier.publisher,
            earlier.indicator_code,
            earlier.snapshot_sha256,
            earlier.min_vintage = earlier.max_vintage as one_vintage,
            count(*) over (partition by earlier.publisher, earlier.indicator_code) as sharing_it
        from taken_in as earlier
        inner join latest_earlier
            on
                earlier.publisher = latest_earlier.publisher
                and earlier.indicator_code = latest_earlier.indicator_code
                and earlier.max_vintage = latest_earlier.max_vintage
        where earlier.taken_in_at < {{ build_stamp() }}
    ),

    revised_indicators as (
        select
            new_snapshots.publisher,
            new_snapshots.indicator_code,
            new_snapshots.snapshot_sha256,
            new_snapshots.predecessor_sha256
        from new_snapshots
        inner join latest_earlier_snapshots as latest
            on
                new_snapshots.publisher = latest.publisher
                and new_snapshots.indicator_code = latest.indicator_code
                and new_snapshots.predecessor_sha256 = latest.snapshot_sha256
        where
            latest.one_vintage
            and latest.sharing_it = 1
            and not exists (
                select 1
                from late_indicators
                where
                    late_indicators.publisher = new_snapshots.publisher
                    and late_indicators.indicator_code = new_snapshots.indicator_code
            )
    ),

    -- The other indicators' rows come from int_observations__published (none read when there are none).
    unrevised_snapshots as (
        select
            new_snapshots.publisher,
            new_snapshots.indicator_code,
            new_snapshots.snapshot_sha256
        from new_snapshots
        where not exists (
            select 1
            from revised_indicators
            where
                revised_indicators.publisher = new_snapshots.publisher
                and revised_indicators.snapshot_sha256 = new_snapshots.snapshot_sha256
                and revised_indicators.indicator_code = new_snapshots.indicator_code
        )
    ),
{% endif %}

-- The rows of the snapshots this build takes in (a full build: every row), with every column; of an indicator a
-- publisher told the revisions of, only the revised rows.
incoming_rows as not materialized (
    select published.*
    from published
    {% if is_incremental() %}
        inner join unrevised_snapshots
            on
                published.snapshot_sha256 = unrevised_snapshots.snapshot_sha256
                and published.publisher = unrevised_snapshots.publisher
                and published.indicator_code = unrevised_snapshots.indicator_code
        union all
        select {{ observation_columns('revised') }}
        from {{ ref('int_observations__revised') }} as revised
        inner join revised_indicators
            on
                revised.publisher = revised_indicators.publisher
                and revised.snapshot_sha256 = revised_indicators.snapshot_sha256
                and revised.indicator_code = revised_indicators.indicator_code
                and revised.predecessor_sha256 = revised_indicators.predecessor_sha256
    {% endif %}
),

{% if is_incremental() %}
    -- Figures of those indicators: recomputed from every release.
    late_figures as (
        select
            incoming.publisher,
            incoming.indicator_code,
            incoming.country_iso3,
            incoming.period
        from incoming_rows as incoming
        inner join late_indicators
            on
                incoming.publisher = late_indicators.publisher
                and incoming.indicator_code = late_indicators.indicator_code
    ),

    history_rows as (
        select published.*
        from published
        inner join late_figures
            on {{ same_figure('published', 'late_figures') }}
    ),
{% endif %}

-- Each release of a snapshot read here (publisher, snapshot, vintage) once, with what it says of its rows
-- (fetched_at, source_url, origin and vintage_label are the snapshot's and the vintage's), numbered in the order
-- a figure's duplicates are ranked below: the latest fetch first, then by snapshot hash. The rows carry this
-- number through the windows and joins, and get the release's text back at the end: sorting 10M rows with the
-- text took 75 s at DuckDB's 1 GB, with the number 40 s.
releases as (
    select
        {{ release_columns() }},
        row_number() over (order by fetched_at desc, snapshot_sha256 asc, publisher asc, vintage asc) as release_key
    from (
        select * from incoming_rows
        {% if is_incremental() %}
            union all
            select * from history_rows
        {% endif %}
    ) as read_rows
    group by {{ release_columns() }}
),

-- What the figures' comparison reads of a row; the release number stands for the rest.
incoming as not materialized (
    select {{ figure_columns('incoming_rows', 'releases') }}
    from incoming_rows
    inner join releases on {{ same_release('incoming_rows', 'releases') }}
),

{% if is_incremental() %}
    history as (
        select {{ figure_columns('history_rows', 'releases') }}
        from history_rows
        inner join releases on {{ same_release('history_rows', 'releases') }}
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

    -- The rows held of the figures an on-time row brings, read once for the comparison and the rewrite below
    -- (the select of a 10M revision: 0.55-0.65 s reading the whole table twice, 0.43 s reading it once).
    held_of_incoming as (
        select held.*
        from {{ this }} as held
        where exists (
            select 1
            from on_time
            where {{ same_figure('held', 'on_time') }}
        )
    ),

    held_current as (
        select
            held.publisher,
            held.indicator_code,
            held.country_iso3,
            held.period,
            held.value,
            held.unit
        from held_of_incoming as held
        where held.is_current
    ),

    -- An on-time row is a change when its figure is new, or its value or unit differs from the current row's.
    on_time_changed as (
        select {{ figure_columns('on_time') }}
        from on_time
        left join held_current
            on {{ same_figure('held_current', 'on_time') }}
        where
            held_current.publisher is null
            or {{ value_revised('on_time.value', 'held_current.value') }}
            or on_time.unit is distinct from held_current.unit
    ),

    -- On time, a figure's rows are of one release (late_indicators): a snapshot that holds a figure twice in it
    -- gives one row, as in a full build.
    on_time_changes as (
        select {{ figure_columns() }}
        from (
            select
                *,
                row_number() over (
                    partition by publisher, indicator_code, country_iso3, period order by release_key
                ) as figure_rank
            from on_time_changed
        ) as changed
        where figure_rank = 1
    ),

    -- A changed figure is rewritten whole (delete+insert by figure): its rows held so far go in again.
    held_rows as (
        select {{ observation_columns('held') }}
        from held_of_incoming as held
        inner join on_time_changes
            on {{ same_figure('held', 'on_time_changes') }}
    ),
{% else %}
    history as not materialized (
        select * from incoming
    ),
{% endif %}

-- Each indicator's releases among the rows read here, by vintage.
indicator_releases as (
    select
        publisher,
        indicator_code,
        vintage,
        min(release_key) as first_release,
        max(release_key) as last_release
    from history
    group by publisher, indicator_code, vintage
),

-- The same release can arrive twice (an API page and a bulk CSV): the latest fetch of each figure is kept. Only an
-- indicator's release held in more than one snapshot can have two rows of a figure, and only its rows are ranked
-- (ranking every row took 37 s of the 10M full build's 75).
held_twice as (
    select
        publisher,
        indicator_code,
        vintage
    from indicator_releases
    where first_release <> last_release
),

-- Indicators whose rows here are all of one release: every indicator of a warehouse's first build, and each
-- indicator's first release. Their figures have one row each, which is the figure's first and current one, unless
-- the release holds a figure twice: only those figures go through the windows below (the first build at 10M
-- observations: this model 19.8 s with every figure through both windows, 11.7-12 s so; docs/PERFORMANCE.md).
one_release as (
    select
        publisher,
        indicator_code
    from indicator_releases
    group by publisher, indicator_code
    having count(*) = 1 and min(first_release) = max(last_release)
),

several_releases as (
    select distinct
        publisher,
        indicator_code
    from indicator_releases
    where not exists (
        select 1
        from one_release
        where {{ same_indicator('one_release', 'indicator_releases') }}
    )
),

one_release_rows as not materialized (
    select
        history.*,
        {{ figure_hash('history') }} as figure_hash
    from history
    where exists (
        select 1
        from one_release
        where {{ same_indicator('one_release', 'history') }}
    )
),

-- Figures such a release holds twice, by a hash of the figure (one number to group by in place of four texts): two
-- figures of one hash only send both through the windows, which tell them apart.
held_twice_in_release as (
    select figure_hash
    from one_release_rows
    group by figure_hash
    having count(*) > 1
),

alone as (
    select {{ figure_columns('one_release_rows') }}
    from one_release_rows
    where one_release_rows.figure_hash not in (select held.figure_hash from held_twice_in_release as held)
),

-- The rows whose figures may have several: read twice below, each time from the rows read here (`not
-- materialized`), and not at all where there are none (a join with an empty table reads nothing).
windowed as not materialized (
    select history.*
    from history
    inner join several_releases
        on {{ same_indicator('several_releases', 'history') }}
    union all
    select {{ figure_columns('one_release_rows') }}
    from one_release_rows
    where one_release_rows.figure_hash in (select held.figure_hash from held_twice_in_release as held)
),

ranked as (
    select
        windowed.*,
        1 as fetch_rank
    from windowed
    where
        not exists (
            select 1
            from held_twice
            where {{ same_indicator_release('held_twice', 'windowed') }}
        )
    union all
    select
        windowed.*,
        row_number() over (
            partition by
                windowed.publisher, windowed.indicator_code, windowed.country_iso3, windowed.period,
                windowed.vintage
            order by windowed.release_key asc
        ) as fetch_rank
    from windowed
    where exists (
        select 1
        from held_twice
        where {{ same_indicator_release('held_twice', 'windowed') }}
    )
),

sequenced as (
    select
        *,
        row_number() over figure as sequence_number,
        lag(vintage) over figure as previous_vintage,
        lag(value) over figure as previous_value,
        lag(unit) over figure as previous_unit
    from ranked
    where fetch_rank = 1
    window figure as (partition by publisher, indicator_code, country_iso3, period order by vintage, release_key)
),

-- A figure's first row, and a later vintage's row that changes its value or unit. (A snapshot that holds a figure
-- twice in one release gives no second row: the first in the order above stands.)
changes as (
    select *
    from sequenced
    where
        sequence_number = 1
        or (
            previous_vintage is distinct from vintage
            and (
                {{ value_revised('value', 'previous_value') }}
                or unit is distinct from previous_unit
            )
        )
),

recomputed as (
    select
        *,
        vintage = max(vintage) over (
            partition by publisher, indicator_code, country_iso3, period
        ) as is_current
    from changes
),

-- The rows that are their figure's current one without the windows: a figure alone in its indicator's one release,
-- and an on-time change.
current_unranked as (
    select {{ figure_columns() }}
    from alone
    {% if is_incremental() %}
        union all
        select {{ figure_columns() }}
        from on_time_changes
    {% endif %}
),

-- Each figure's rows with their releases' text again.
figure_rows as (
    select
        {{ observation_columns_of('recomputed', 'releases') }},
        recomputed.is_current
    from recomputed
    inner join releases on recomputed.release_key = releases.release_key
    union all
    select
        {{ observation_columns_of('current_unranked', 'releases') }},
        true as is_current
    from current_unranked
    inner join releases on current_unranked.release_key = releases.release_key
    {% if is_incremental() %}
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
