{#- Incremental models keyed by figure (publisher, indicator, country, period) recompute only the figures this
    build took in: int_observations__vintaged stamps the rows it inserts with the build's start time. -#}

{% macro build_stamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- Two rows are of the same figure (publisher, indicator, country, period). -#}
{% macro same_figure(left, right) -%}
    {{ left }}.publisher = {{ right }}.publisher
    and {{ left }}.indicator_code = {{ right }}.indicator_code
    and {{ left }}.country_iso3 = {{ right }}.country_iso3
    and {{ left }}.period = {{ right }}.period
{%- endmacro %}

{#- The figures whose rows this build inserted into int_observations__vintaged (new or settled vintages). -#}
{% macro figures_taken_in() -%}
    select distinct
        publisher,
        indicator_code,
        country_iso3,
        period
    from {{ ref('int_observations__vintaged') }}
    where taken_in_at = {{ build_stamp() }}
{%- endmacro %}

{#- The rows of int_observations__vintaged of the figures this build took in: every row of such a figure, since the
    build rewrites each figure it takes in whole (delete+insert by figure), stamping the rows with its start. The rows
    a build inserts lie together, and DuckDB skips the rest by the stamp's min and max per row group: no join of
    the held figures with figures_taken_in (a 10M revision: int_observations__as_of 0.6 -> 0.43 s, mart_revisions
    0.38 -> 0.22 s). In a full build of the model: every row. -#}
{% macro rows_of_figures_taken_in(vintaged) -%}
    {{ vintaged ~ '.taken_in_at = ' ~ build_stamp() if is_incremental() else 'true' }}
{%- endmacro %}

{#- pre_hook of such a model: drop its rows of the figures this build took in, which the model then appends anew
    (a figure may lose rows, e.g. a settled vintage that no longer differs; delete+insert would keep them). -#}
{% macro delete_figures_taken_in() -%}
    {% if is_incremental() %}
        delete from {{ this }} as held
        where exists (
            select 1
            from ({{ figures_taken_in() }}) as taken_in
            where {{ same_figure('taken_in', 'held') }}
        )
    {% endif %}
{%- endmacro %}

{#- The columns of an observation, as int_observations__vintaged and int_observations__as_of hold them (listed:
    `select * exclude` is DuckDB's), and which of them are its release's (the same for every row of a snapshot's
    vintage): the one list every macro below reads. -#}
{% macro observation_column_names() -%}
    {{ return(['publisher', 'indicator_code', 'country_iso3', 'period', 'value', 'unit', 'fetched_at',
        'snapshot_sha256', 'source_url', 'origin', 'vintage', 'vintage_label']) }}
{%- endmacro %}

{% macro release_column_names() -%}
    {{ return(['publisher', 'snapshot_sha256', 'vintage', 'fetched_at', 'source_url', 'origin', 'vintage_label']) }}
{%- endmacro %}

{% macro observation_columns(relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- for column in observation_column_names() %}
        {{ prefix }}{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- A data test's condition that limits it to the rows this build changed, so an incremental build checks what it
    changed rather than the whole table (a full build, `--full-refresh`, writes and so checks every row):
    - written_by_this_build: the rows this build wrote (`taken_in_at`; models rewritten whole per figure);
    - new_snapshots_only: the rows of snapshots int_observations__taken_in does not hold yet. A staging model's
      tests run before the models downstream of it, so that table still lists the snapshots earlier builds took
      in. It is looked up, not ref()'d: a ref would make the test wait until the table is built. The snapshots it
      holds are read when the test compiles and written into the test as a list: DuckDB filters a constant list
      where it reads the raw table, before a staging view unnests it, and a subquery only after (at 10M
      observations, a World Bank release's uniqueness test 0.7 s instead of 1.0-1.3 s; docs/PERFORMANCE.md);
    - full_build_only: no row unless the build is a full one (`--full-refresh`: the flow's build of new code). For
      a property of a model's rows that follows from the tables it reads, each tested where its rows are written,
      and from the model's code: that code changes only with a full build, and the tables' tests check each
      refresh's new rows. -#}
{% macro rows_this_build_changed(written_by_this_build=false, new_snapshots_only=false, full_build_only=false) -%}
    {%- set conditions = ['true'] -%}
    {%- if full_build_only and not flags.FULL_REFRESH -%}
        {%- do conditions.append('false') -%}
    {%- endif -%}
    {%- if written_by_this_build -%}
        {%- do conditions.append('taken_in_at = ' ~ build_stamp()) -%}
    {%- endif -%}
    {%- if new_snapshots_only and not flags.FULL_REFRESH and execute -%}
        {%- set taken_in = adapter.get_relation(
            database=target.database, schema='intermediate', identifier='int_observations__taken_in'
        ) -%}
        {%- if taken_in -%}
            {%- set held = run_query(
                'select distinct snapshot_sha256 from ' ~ taken_in ~ ' order by snapshot_sha256'
            ).columns[0].values() -%}
            {%- if held | length > 0 -%}
                {#- a row without a snapshot belongs to none taken in: checked (its not_null rule fails it) -#}
                {%- do conditions.append(
                    '(snapshot_sha256 is null or snapshot_sha256 not in (' ~ sql_strings(held) ~ '))'
                ) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{ conditions | join(' and ') }}
{%- endmacro %}

{#- int_observations__vintaged's rows carry a release number (its release_column_names) in place of the release's
    text until the end. A row's figure, value, unit and vintage, and the number of its release (from `releases`
    when given, else from the row): -#}
{% macro figure_columns(rows=none, releases=none) -%}
    {%- set prefix = rows ~ '.' if rows else '' -%}
    {%- for column in observation_column_names() if column in ['publisher', 'vintage'] or column not in
        release_column_names() %}
        {{ prefix }}{{ column }},
    {%- endfor %}
        {{ releases ~ '.' if releases else prefix }}release_key
{%- endmacro %}

{#- ... the release columns, as `releases` groups by them: -#}
{% macro release_columns() -%}
    {{ release_column_names() | join(', ') }}
{%- endmacro %}

{#- ... the release a row of published belongs to (a column of the release's text may be null): -#}
{% macro same_release(rows, releases) -%}
    {%- for column in release_column_names() %}
        {{ 'and ' if not loop.first }}{{ rows }}.{{ column }} is not distinct from {{ releases }}.{{ column }}
    {%- endfor %}
{%- endmacro %}

{#- ... and an observation's columns again, as observation_columns lists them: the row's and its release's. -#}
{% macro observation_columns_of(rows, releases) -%}
    {%- for column in observation_column_names() %}
        {{ rows if column in ['publisher', 'vintage'] or column not in release_column_names() else releases }}.
        {{- column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- Two rows are of the same indicator (either may be of no indicator: a row is kept, whichever way it goes). -#}
{% macro same_indicator(left, right) -%}
    {{ left }}.publisher is not distinct from {{ right }}.publisher
    and {{ left }}.indicator_code is not distinct from {{ right }}.indicator_code
{%- endmacro %}

{#- A figure's hash (publisher, indicator, country, period): one number to group 10M figures by in place of four
    texts. Equal figures hash equal; two figures may too, so it can only narrow what is compared exactly. -#}
{% macro figure_hash(rows) -%}
    {%- set columns = [rows ~ '.publisher', rows ~ '.indicator_code', rows ~ '.country_iso3', rows ~ '.period'] -%}
    {%- if target.type == 'duckdb' -%}
        hash({{ columns | join(', ') }})
    {%- else -%}
        md5(concat_ws(chr(31), {{ columns | join(', ') }}))
    {%- endif -%}
{%- endmacro %}

{#- Two rows are of the same release of an indicator. -#}
{% macro same_indicator_release(left, right) -%}
    {{ left }}.publisher = {{ right }}.publisher
    and {{ left }}.indicator_code = {{ right }}.indicator_code
    and {{ left }}.vintage is not distinct from {{ right }}.vintage
{%- endmacro %}
