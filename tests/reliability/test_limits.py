"""The real reason, always: a file over the import cap, a zip bomb and a line too long are refused as such, with the
limit and the setting that changes it, never as "a format no connector recognises" or DuckDB's strict_mode advice.

The inputs are generated here (synthetic) and the caps lowered through the settings, so nothing big is written.
"""

from __future__ import annotations

import struct
from pathlib import Path

import duckdb
import pytest

import scrapers
from tests.builders import worldbank_bulk_csv, zipped
from tests.reliability.conftest import FIGURES
from tests.reliability.test_hostile_input import understated, zip_bomb
from unionstat import imports, warehouse
from unionstat.errors import LimitExceeded, SourceError, StageFailed
from unionstat.settings import Settings
from unionstat.snapshots import SnapshotStore

WB_NAME = "API_NY.GDP.MKTP.KD.ZG_DS2_en_csv_v2_1.csv"
NO_FORMAT = "no format a connector recognises"


def import_with(tmp_path: Path, path: Path, **limits: str) -> None:
    """Import `path` as `unionstat import` does, every connector tried, with the limits given (UNIONSTAT_*)."""
    env = {"UNIONSTAT_WAREHOUSE_DIR": str(tmp_path / "warehouse"), **limits}
    settings = Settings.from_env(env)
    connectors = scrapers.all_connectors(settings)
    con = duckdb.connect()
    try:
        warehouse.ensure_schema(con, [c.raw_ddl for c in connectors])
        imports.import_file(con, SnapshotStore(settings.snapshot_dir), connectors, path, "test-run")
    finally:
        con.close()


def test_a_file_over_the_import_cap_is_refused_naming_the_cap(tmp_path: Path) -> None:
    path = tmp_path / WB_NAME
    path.write_bytes(worldbank_bulk_csv({"RUS": {"2023": "1.25"}}, "2025-07-01"))
    size = path.stat().st_size
    with pytest.raises(LimitExceeded) as refused:
        import_with(tmp_path, path, UNIONSTAT_MAX_IMPORT_BYTES="100")
    message = str(refused.value)
    assert f"expected a file of at most 100 bytes; found {size} bytes" in message
    assert "UNIONSTAT_MAX_IMPORT_BYTES" in message and NO_FORMAT not in message
    import_with(tmp_path, path)  # the same file under the default cap is taken in
    FIGURES.hostile.append("import over the size cap named as such")


def test_a_zip_bomb_is_refused_as_a_zip_bomb_not_as_an_unknown_format(tmp_path: Path) -> None:
    bomb = zip_bomb(4 * 1024 * 1024)  # 4 MB of zeros in a few kilobytes, under a World Bank member name
    honest = tmp_path / "honest.zip"
    honest.write_bytes(bomb)
    with pytest.raises(LimitExceeded) as refused:
        import_with(tmp_path, honest, UNIONSTAT_MAX_UNPACKED_BYTES="1000000")
    message = str(refused.value)
    assert "expected a zip unpacking to of at most 1000000 bytes" in message
    assert "declared by its members (a zip bomb?)" in message
    assert "UNIONSTAT_MAX_UNPACKED_BYTES" in message and NO_FORMAT not in message

    lying = tmp_path / "lying.zip"
    lying.write_bytes(understated(bomb, 1000))  # declares 1000 bytes, unpacks to 4 MB
    with pytest.raises(SourceError) as damaged:
        import_with(tmp_path, lying)
    assert "unpack to the sizes they declare" in str(damaged.value)
    assert "a zip bomb lying about its size" in str(damaged.value) and NO_FORMAT not in str(damaged.value)

    # a genuine zip under the cap is still taken in
    genuine = tmp_path / "genuine.zip"
    genuine.write_bytes(zipped(WB_NAME, worldbank_bulk_csv({"RUS": {"2023": "1.25"}}, "2025-07-01")))
    import_with(tmp_path, genuine, UNIONSTAT_MAX_UNPACKED_BYTES="1000000")
    FIGURES.hostile.append("zip bomb (declared and lying) named as such at import")


def with_member_header(body: bytes, field: str, value: int) -> bytes:
    """The same zip with one field of its member's local and central headers set to `value` (APPNOTE 4.3.7 and
    4.3.12): `flags` bit 0 says encrypted, `method` the compression method. zipfile cannot write either."""
    data = bytearray(body)
    offsets = {"flags": (6, 8), "method": (8, 10)}[field]
    for signature, offset in zip((b"PK\x03\x04", b"PK\x01\x02"), offsets, strict=True):
        struct.pack_into("<H", data, data.find(signature) + offset, value)
    return bytes(data)


@pytest.mark.parametrize(
    ("field", "value", "found"),
    [
        ("flags", 0x1, f"member {WB_NAME!r} is encrypted (a password-protected zip)"),
        ("method", 9, f"member {WB_NAME!r} is compressed with method 9 (Deflate64)"),
        ("method", 93, f"member {WB_NAME!r} is compressed with method 93 (Zstandard)"),
    ],
    ids=["encrypted", "deflate64", "zstandard"],
)
def test_a_zip_member_zipfile_cannot_open_is_refused_by_name(
    field: str, value: int, found: str, tmp_path: Path
) -> None:
    path = tmp_path / "download.zip"
    path.write_bytes(
        with_member_header(zipped(WB_NAME, worldbank_bulk_csv({"RUS": {"2023": "1.25"}}, "2025-07-01")), field, value)
    )
    with pytest.raises(SourceError) as refused:
        import_with(tmp_path, path)
    message = str(refused.value)
    assert message == (
        f"[import] {path}: expected a zip whose members are unencrypted and stored or compressed with deflate, "
        f"bzip2 or LZMA; found {found}"
    )
    assert "\n" not in message and NO_FORMAT not in message
    FIGURES.hostile.append(f"zip member zipfile cannot open ({field} {value}) named as such")


@pytest.mark.parametrize("shape", ["one line", "a World Bank preamble, then one long line"])
def test_a_line_too_long_is_named_with_its_limit(shape: str, tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    if shape == "one line":
        path.write_bytes(b"x" * 50_000)
        line = 1
    else:
        head = worldbank_bulk_csv({}, "2025-07-01")
        path.write_bytes(head + b'"' + b"9" * 50_000 + b'"\n')
        line = head.count(b"\n") + 1
    with pytest.raises(LimitExceeded) as refused:
        import_with(tmp_path, path, UNIONSTAT_MAX_LINE_BYTES="10000")
    message = str(refused.value)
    assert f"expected a line of at most 10000 bytes; found line {line} longer than that" in message
    assert "UNIONSTAT_MAX_LINE_BYTES" in message
    assert NO_FORMAT not in message and "strict_mode" not in message
    FIGURES.hostile.append(f"line too long ({shape}) named as such")


def test_a_refused_import_names_the_limit_in_the_refresh_error(warehouse_env: Settings, tmp_path: Path) -> None:
    from flows.refresh import refresh

    path = tmp_path / "long.csv"
    path.write_bytes(b"y" * (3 * 1024 * 1024))  # one line longer than the default 2 MiB
    with pytest.raises(StageFailed, match=r"stage 'import'.*a line of at most 2097152 bytes.*UNIONSTAT_MAX_LINE_BYTES"):
        refresh(import_paths=[str(path)])
    assert not warehouse_env.published_db.exists()
