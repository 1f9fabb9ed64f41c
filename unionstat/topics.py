"""`unionstat help <topic>`: the main workflows, each on one page (what it does, the commands, what to look at)."""

from __future__ import annotations

TOPICS = {
    "refresh": """\
unionstat refresh — fetch, load, validate, build and publish the warehouse

  unionstat refresh                      offline: the reference snapshot stands in for the publishers
  unionstat refresh --live               fetch from the publishers (needs the internet)
  unionstat refresh --source worldbank   only some sources (repeatable; `unionstat sources` lists them)
  unionstat refresh --verbose            also Prefect's task states and Great Expectations' progress bars

Every stage works on a build beside the published file (warehouse/build/); the published warehouse
(warehouse/unionstat.duckdb) is swapped in at the end, or stays byte for byte as it was when a stage fails.
A source that fails is isolated: the others still publish and the run says `partial` (exit 1). A release that
fails to parse or fails a critical check is quarantined (`unionstat snapshots` says why): it fails that one run,
and later refreshes neither load it nor fail on it. Once the check is fixed, `unionstat unretract SHA --reason ...`
lifts the quarantine and the next refresh checks it again.
A second refresh with nothing new stores no snapshot, loads no row and says `unchanged`.

The run prints one line per stage and per source, then a closing block: the status, what changed per source,
the checks, the paths (warehouse, analysis report, data quality, Data Docs, dbt docs), then notes and warnings.
See also: unionstat help as-of, unionstat dq.""",
    "import": """\
unionstat import — take in files downloaded by hand from a publisher's site

  unionstat import API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv
  unionstat import ~/Downloads/*.zip --as-of 2024-12-31

Takes World Bank bulk CSVs, zips and country metadata, Rosstat and Belstat XLSX/XLS workbooks and WIPO CSV
exports. Each file is stored as sent (by its sha256) and becomes a new vintage: nothing is overwritten, and a
file already known adds nothing ("already known"). Then the refresh runs on what the files changed.
A file no connector recognises is refused with a message naming the file and what was expected. A file whose
rows fail a critical check is quarantined, not published: its source says FAILED with the check and an example.""",
    "as-of": """\
unionstat refresh --as-of DATE — the marts as they stood on a date

  unionstat refresh --as-of 2024-12-31   build from the releases published up to 2024-12-31
  unionstat refresh                      back to the newest releases

Every value a figure has had is kept (intermediate.int_observations__vintaged); --as-of picks, for each figure,
the newest release published on or before DATE. The date is shown in the closing block, in `unionstat dq` and in
the analysis report. Changing the as-of date (to another date, or back to the newest releases) rebuilds
everything, and the run says so: "dbt built everything (the as-of date changed: 2024-12-31 -> newest releases)".""",
    "audit": """\
unionstat audit — each figure the paper printed beside what the data says

  unionstat audit                        a table that fits the terminal
  unionstat audit --format csv > audit.csv
  unionstat audit --format json | jq '.[] | select(.status == "mismatch")'

Statuses: match (the data gives the printed figure), explained (it differs, and the explanation says why),
mismatch, paper only (the figure is compiled from the paper: it agrees by construction and checks nothing),
not reproducible (no data to recompute it from). `compared_with` names the release the figure was checked
against; the analysis report (warehouse/reports/analysis/index.html) shows the same beside the tables.""",
    "export": """\
unionstat export — every mart as Parquet and CSV, with a provenance manifest

  unionstat export                       into warehouse/exports/<run id>/
  unionstat export --to /tmp/unionstat

manifest.json names the run, every file with its sha256, the vintages used (publisher, indicator, release,
origin) and which marts hold figures compiled from the paper. For one query instead: unionstat sql "..." -o FILE
(--format csv, json or parquet).""",
}


def page(topic: str) -> str:
    return TOPICS[topic]


def index() -> str:
    return "topics: " + ", ".join(TOPICS) + " (unionstat help TOPIC)"
