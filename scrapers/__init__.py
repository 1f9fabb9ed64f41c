"""Connectors, one module per publisher; endpoint facts live in sources.json, the one registry."""

from __future__ import annotations

import importlib
import json
from functools import cache
from pathlib import Path

from scrapers.base import Connector, SourceConfig
from unionstat.settings import Settings

REGISTRY_PATH = Path(__file__).with_name("sources.json")


@cache
def registry() -> dict[str, SourceConfig]:
    """Every source unionstat knows, from sources.json."""
    return load_registry(REGISTRY_PATH)


def load_registry(path: Path) -> dict[str, SourceConfig]:
    """The sources of a registry file (sources.json's shape): one SourceConfig per entry, in file order."""
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {name: SourceConfig.from_dict(name, entry) for name, entry in raw.items()}


def connector(name: str, settings: Settings) -> Connector:
    configs = registry()
    if name not in configs:
        raise KeyError(f"unknown source {name!r}; known sources: {', '.join(sorted(configs))}")
    return connector_for(configs[name], settings)


def connector_for(config: SourceConfig, settings: Settings) -> Connector:
    """The connector of one registry entry: `CONNECTOR` of the module the entry names (any importable module)."""
    module = importlib.import_module(config.module)
    cls: type[Connector] = module.CONNECTOR
    return cls(config, settings)


def all_connectors(settings: Settings) -> list[Connector]:
    return [connector(name, settings) for name in registry()]
