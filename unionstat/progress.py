"""A refresh's progress as a person follows it: one line per stage and per source, with counts and elapsed time.

The flow logs the lines on the `unionstat.progress` logger; the command line shows them (`show`), so a refresh run
from a Prefect worker or a test stays quiet unless its logging says otherwise.
"""

from __future__ import annotations

import logging
import sys
from typing import IO

LOGGER = logging.getLogger("unionstat.progress")
STAGE_WIDTH = 10
SOURCE_WIDTH = 10


def line(stage: str, text: str, seconds: float | None = None, source: str | None = None) -> None:
    """`fetch     worldbank  10 new snapshots (0.4 s)`."""
    who = f"{source:<{SOURCE_WIDTH}} " if source else ""
    took = f" ({duration(seconds)})" if seconds is not None else ""
    LOGGER.info("%s %s%s%s", f"{stage:<{STAGE_WIDTH}}", who, text, took)


def show(stream: IO[str] | None = None) -> logging.Handler:
    """Print the progress lines on `stream` (standard error by default), as they come; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    return handler


def duration(seconds: float) -> str:
    """'0.4 s', '12 s', '2 min 15 s'."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """'1 snapshot', '2 snapshots', '1,234 rows'."""
    word = singular if count == 1 else plural_form or singular + "s"
    return f"{count:,} {word}"
