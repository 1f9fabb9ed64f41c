{#- A World Bank snapshot's rows are in one raw table: an API page's in worldbank_observations, a bulk CSV's lines in
    worldbank_bulk (the loader writes a snapshot to the table of its format). stg_worldbank__observations unions the
    two; its rows are unique because each table's are and no snapshot is in both. Fails with each snapshot in both. -#}
select distinct api.snapshot_sha256
from {{ source('worldbank', 'worldbank_observations') }} as api
inner join {{ source('worldbank', 'worldbank_bulk_files') }} as bulk
    on api.snapshot_sha256 = bulk.snapshot_sha256
