{#- One row per snapshot and indicator that int_observations__vintaged has taken in: the vintages the snapshot holds
    for the indicator, its rows, and the build that took it in. Incremental (append): a build adds only the
    snapshots it has not seen; int_observations__vintaged compares a build's new snapshots with the earlier ones
    to choose how much it recomputes. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
) }}

with published as (
    select * from {{ ref('int_observations__published') }}
),

snapshots as (
    select * from {{ ref('stg_unionstat__snapshots') }}
),

{% if is_incremental() %}
    held as (
        select distinct snapshot_sha256 from {{ this }}
    ),
{% endif %}

-- Snapshots not taken in yet (all of them in a full build): a short list to filter the publishers' rows with.
new_snapshots as (
    select snapshots.snapshot_sha256
    from snapshots
    {% if is_incremental() %}
        where snapshots.snapshot_sha256 not in (select held.snapshot_sha256 from held)
    {% endif %}
),

final as (
    select
        published.publisher,
        published.indicator_code,
        published.snapshot_sha256,
        min(published.vintage) as min_vintage,
        max(published.vintage) as max_vintage,
        count(*) as observations,
        {{ build_stamp() }} as taken_in_at
    from published
    inner join new_snapshots
        on published.snapshot_sha256 = new_snapshots.snapshot_sha256
    group by published.publisher, published.indicator_code, published.snapshot_sha256
)

select * from final
