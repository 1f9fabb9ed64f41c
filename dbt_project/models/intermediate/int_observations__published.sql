{#- Every figure of every release as published: one row per snapshot row of each publisher's observations, in one
    shape, with its provenance (snapshot, URL, origin, fetch time) and vintage (the release it belongs to). A view:
    the vintaged table keeps only the changes; this is where each release's full content stays queryable.

    The publishers are not listed here: every staging model whose yml declares `meta: observations` joins the
    union (its columns indicator_code, country_iso3, period, value, unit, snapshot_sha256 and release_date), with
    the options it declares there (macro observation_members: what they mean). The body is macro
    published_observations: int_observations__vintaged reads a publisher's revised cells through it too. -#}
{{ published_observations(observation_members()) }}
