"""A bad import cannot poison later refreshes, and any snapshot can be withdrawn and put back.

A World Bank-shaped CSV with a garbage value fails the one refresh that takes it in (`partial`) and stays in
quarantine: later refreshes do not fail on it, and `sources`/`dq` do not call the World Bank's fetch broken. A
good import that is retracted (`unionstat retract`) leaves the marts at the next refresh, which is `published`;
`unionstat unretract` brings its rows back. Nothing is deleted from the snapshot store. The CSVs are synthetic.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.refresh import refresh
from tests.builders import worldbank_bulk_csv
from tests.conftest import query
from tests.reliability.conftest import FIGURES
from unionstat import dq
from unionstat.cli import main
from unionstat.settings import Settings
from unionstat.snapshots import os_user, retraction_journal, sha256_of

# Read by hand from the real World Bank release of 2024-06-28 in the reference snapshot (GDP growth 2023, Russia).
GDP_2023_RUS_REFERENCE = 3.60000000000001
GDP_2023_RUS = (
    "select value from intermediate.int_observations__as_of "
    "where indicator_code = 'NY.GDP.MKTP.KD.ZG' and period = '2023' and country_iso3 = 'RUS'"
)
ROWS_OF = "select count(*) from intermediate.int_observations__published where snapshot_sha256 = ?"
NAME = "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_{}.csv"


def bulk_csv(folder: Path, name: str, rus_2023: str) -> tuple[Path, str]:
    path = folder / NAME.format(name)
    body = worldbank_bulk_csv({"RUS": {"2023": rus_2023}, "BLR": {"2023": "2.5"}}, "2025-07-01")
    path.write_bytes(body)
    return path, sha256_of(body)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_bad_import_is_quarantined_and_a_retracted_import_leaves_the_marts(
    published_reference: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings, db = published_reference, published_reference.published_db
    store_files = {p for p in settings.snapshot_dir.rglob("*") if p.is_file()}

    # 1. A garbage value: the refresh that takes it in is partial, the snapshot is quarantined with its reason.
    bad, bad_sha = bulk_csv(tmp_path, "bad", "n/a!")
    summary = refresh(import_paths=[str(bad)])
    assert summary["status"] == "partial"
    assert "expected a number or an empty cell as value; found 'n/a!'" in summary["failed_sources"]["worldbank"]
    assert summary["quarantined"] == {"worldbank": [bad_sha]}
    assert query(db, "select source, run_id from raw.snapshot_quarantine") == [("worldbank", summary["run_id"])]
    code, out, _ = cli(capsys, "snapshots")
    assert code == 0
    assert f"{bad_sha[:12]} imported" in out and "quarantined ([worldbank]" in out
    states = {row["source"]: row for row in dq.freshness(settings)}
    assert states["worldbank"]["state"] != "fetch broken" and states["worldbank"]["last_error"] is None

    # 2. Every later refresh goes on without it: nothing failed, nothing to rebuild.
    later = refresh()
    assert later["status"] == "unchanged" and later["failed_sources"] == {}
    code, out, _ = cli(capsys, "sources")
    assert "fetch broken" not in out

    # 3. A good import loads beside the quarantined one and becomes the newest vintage.
    good, good_sha = bulk_csv(tmp_path, "good", "1.25")
    assert refresh(import_paths=[str(good)])["status"] == "published"
    assert query(db, GDP_2023_RUS) == [(1.25,)]
    assert query(db, ROWS_OF, [good_sha])[0][0] > 0

    # 4. Retracted (by a prefix, as `unionstat snapshots` shows it): recorded with who, when and why...
    code, out, _ = cli(capsys, "retract", good_sha[:12], "--reason", "synthetic values, imported by mistake")
    assert code == 0 and f"retracted snapshot {good_sha[:12]} (worldbank NY.GDP.MKTP.KD.ZG, imported)" in out
    code, _, err = cli(capsys, "retract", good_sha, "--reason", "again")
    assert code == 2 and "is already retracted" in err
    [entry] = retraction_journal(settings.snapshot_dir)
    assert (entry.sha256, entry.action, entry.reason, entry.recorded_by) == (
        good_sha,
        "retract",
        "synthetic values, imported by mistake",
        os_user(),
    )
    # ...and its rows leave the marts at the next refresh, which publishes (a full rebuild: the incremental
    # models held the rows).
    summary = refresh()
    assert (summary["status"], summary["build_selection"], summary["retracted"]) == (
        "published",
        "everything",
        [good_sha],
    )
    assert query(db, GDP_2023_RUS) == [(GDP_2023_RUS_REFERENCE,)]
    assert query(db, ROWS_OF, [good_sha]) == [(0,)]
    assert query(db, "select count(*) from marts.mart_snapshot_provenance where snapshot_sha256 = ?", [good_sha]) == [
        (0,)
    ]
    code, out, _ = cli(capsys, "snapshots")
    assert re.search(rf"{good_sha[:12]} imported +retracted \(by {os_user()} at .*: synthetic values", out), out

    # 5. Unretracted: the rows come back at the next refresh.
    code, out, _ = cli(capsys, "unretract", good_sha[:12])
    assert code == 0 and "unretracted" in out
    summary = refresh()
    assert (summary["status"], summary["retracted"]) == ("published", [])
    assert query(db, GDP_2023_RUS) == [(1.25,)]
    assert [e.action for e in retraction_journal(settings.snapshot_dir)] == ["retract", "unretract"]

    # Nothing was deleted from the snapshot store, and both snapshots are still listed.
    assert store_files <= {p for p in settings.snapshot_dir.rglob("*") if p.is_file()}
    assert query(db, "select count(*) from raw.snapshots where sha256 in (?, ?)", [bad_sha, good_sha]) == [(2,)]
    FIGURES.end_to_end.append(
        "a bad import: one partial refresh, then quarantined; a retracted import leaves the marts and the next "
        "refresh is published; unretracted, it comes back"
    )
