"""The project's typed errors: each says which source, which URL or file, what was expected and found."""

from __future__ import annotations


class UnionstatError(Exception):
    """Base class for every error unionstat raises on purpose."""


class SourceError(UnionstatError):
    """A publisher's answer was not what the connector expects."""

    def __init__(self, source: str, location: str, expected: str, found: str) -> None:
        self.source = source
        self.location = location
        self.expected = expected
        self.found = found
        super().__init__(f"[{source}] {location}: expected {expected}; found {found}")


class ParseError(SourceError):
    """A stored snapshot could not be turned into rows."""


class NotRecorded(SourceError):
    """Replay mode: the reference snapshot holds no recording for this request."""

    def __init__(self, source: str, location: str) -> None:
        super().__init__(
            source,
            location,
            "a recorded response in the reference snapshot",
            "no recording (the paper published no figure from this request); run with --live to fetch it",
        )


class StageFailed(UnionstatError):
    """A pipeline stage failed; the published warehouse was left as it was."""

    def __init__(self, stage: str, reason: str) -> None:
        self.stage = stage
        self.reason = reason
        super().__init__(f"refresh failed in stage '{stage}': {reason}. The published warehouse is unchanged.")


class ValidationFailed(UnionstatError):
    """A critical expectation failed on rows about to be published."""


class TransformFailed(UnionstatError):
    """dbt build did not succeed."""


class RefreshBusy(UnionstatError):
    """Another refresh holds the writer lock."""


class LimitExceeded(SourceError):
    """An input is larger than a configured limit (a size cap, an unpacked size, a line length): the message names
    the limit, its value and the setting that changes it, so the reason is never mistaken for a bad format."""

    def __init__(self, source: str, location: str, limit: str, cap: int, found: str, setting: str) -> None:
        self.limit = limit
        self.cap = cap
        self.setting = setting
        super().__init__(
            source, location, f"{limit} of at most {cap} bytes", f"{found} (a size limit: {setting} sets it)"
        )


class ArgumentInvalid(UnionstatError):
    """A command-line argument unionstat cannot use: found before anything starts, named with what is accepted."""
