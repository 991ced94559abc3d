"""Every source reader, and how a file finds its reader by content.

The readers register themselves in :data:`ingest.sources.REGISTRY` when their module is imported; this module
imports the three of them, so that it sits above them: the pipeline (:mod:`ingest.load`) and the CLI ask it,
the readers never do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import ingest.netpublic
import ingest.oten
import ingest.villes_internet
from ingest.sources import REGISTRY, Reader
from kg.errors import InvalidInput

#: The modules whose import registers the readers (named, so that the imports above read as used).
READER_MODULES = (ingest.villes_internet, ingest.oten, ingest.netpublic)


def readers() -> dict[str, Reader]:
    """All readers, keyed by format label."""
    return REGISTRY


def readers_for(source: str) -> list[Reader]:
    """The readers of one source (NetPublic has two formats, Villes Internet three)."""
    return [r for r in REGISTRY.values() if r.source == source]


def sniff(path: Path) -> Reader | None:
    """The reader that recognises this file by its content, if any."""
    return next(_recognising(path, list(REGISTRY.values())), None)


def reader_for(path: Path, source: str | None = None) -> Reader:
    """Pick the reader for a file: among the readers of ``source`` if given, by content in any case."""
    candidates = readers_for(source) if source else list(REGISTRY.values())
    found = next(_recognising(path, candidates), None)
    if found is None:
        wanted = f" de la source {source}" if source else ""
        raise InvalidInput(f"{path} : format non reconnu{wanted} (contenu inattendu)")
    return found


def _recognising(path: Path, candidates: list[Reader]) -> Iterator[Reader]:
    for reader in candidates:
        try:
            if reader.sniff(path):
                yield reader
        except (OSError, ValueError):
            continue
