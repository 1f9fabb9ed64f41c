"""Exports for people who do not use SQL: every mart as Parquet and CSV, with a manifest of provenance."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from unionstat import query
from unionstat.errors import UnionstatError
from unionstat.settings import Settings

FORMATS = ("parquet", "csv")


def export_marts(settings: Settings, target: Path | None = None) -> Path:
    """Write marts.* of the published warehouse to `target` (default warehouse/exports/<run id>/)."""
    if not settings.published_db.exists():
        raise UnionstatError(f"no published warehouse at {settings.published_db}; run `make run` first")
    with query.connection(settings, writable_dir=target or settings.warehouse_dir / "exports") as con:
        run = con.execute("select run_id, published_at from ops.runs order by published_at desc limit 1").fetchone()
        if run is None:
            raise UnionstatError(f"{settings.published_db} has no published run")
        run_id, published_at = run
        out = target or settings.warehouse_dir / "exports" / run_id
        out.mkdir(parents=True, exist_ok=True)
        marts = [
            name
            for (name,) in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        files: list[dict[str, Any]] = []
        for mart in marts:
            rows = con.execute(f"select count(*) from marts.{mart}").fetchone()  # noqa: S608
            for fmt in FORMATS:
                path = out / f"{mart}.{fmt}"
                option = "(format parquet)" if fmt == "parquet" else "(header, delimiter ',')"
                con.execute(f"copy marts.{mart} to '{_sql_path(path)}' {option}")
                files.append(
                    {
                        "file": path.name,
                        "mart": f"marts.{mart}",
                        "format": fmt,
                        "rows": rows[0] if rows else 0,
                        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    }
                )
        vintages = [
            {
                "publisher": p,
                "indicator_code": i,
                "vintage": str(v),
                "vintage_label": label,
                "origin": origin,
                "snapshot_sha256": s,
            }
            for p, i, v, label, origin, s in con.execute(
                "select distinct publisher, indicator_code, vintage, vintage_label, origin, snapshot_sha256 "
                "from intermediate.int_observations__as_of order by 1, 2, 3, 6"
            ).fetchall()
        ]
    manifest = {
        "exported_at": datetime.now(UTC).isoformat(),
        "run_id": run_id,
        "published_at": str(published_at),
        "warehouse": str(settings.published_db),
        "vintages_used": vintages,
        # What the numbers are: a figure compiled from the paper agrees with the paper by construction.
        "compiled_from_paper": sorted(
            {f"{v['publisher']} {v['indicator_code']}" for v in vintages if v["origin"] == "compiled_from_paper"}
        ),
        "files": files,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return out


def _sql_path(path: Path) -> str:
    text = str(path)
    if "'" in text:
        raise UnionstatError(f"export: a path with a quote is not supported: {text}")
    return text
