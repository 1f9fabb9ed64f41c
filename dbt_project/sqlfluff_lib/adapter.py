"""dbt's `adapter.dispatch` for linting: sqlfluff's jinja templater renders every portable macro's DuckDB branch."""

from __future__ import annotations

from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

ENGINE = "duckdb"


@pass_context
def dispatch(context: Context, macro_name: str, macro_namespace: str | None = None) -> Any:
    """The `duckdb__<name>` macro, else `default__<name>`, as dbt would pick on the DuckDB target."""
    for candidate in (f"{ENGINE}__{macro_name}", f"default__{macro_name}"):
        macro = context.resolve_or_missing(candidate)
        if callable(macro):
            return macro
    raise LookupError(f"sqlfluff lint: no {ENGINE}__ or default__ implementation of macro {macro_name!r}")


def get_relation(database: str, schema: str, identifier: str) -> None:
    """No relation exists when linting: the models render as in a warehouse's first build."""
    return None
