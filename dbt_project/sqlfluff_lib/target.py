"""dbt's `target` for linting: sqlfluff renders the models as on the DuckDB warehouse target."""

type = "duckdb"  # noqa: A001 - the attribute dbt's `target` has
name = "build"
