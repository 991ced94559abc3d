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
from kg.errors import IngestError

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
    """Pick the reader for a file: among the readers of ``source`` if given, by content in any case.

    A file that no reader recognises raises the most precise :class:`IngestError` :func:`unrecognised` finds.
    """
    candidates = readers_for(source) if source else list(REGISTRY.values())
    found = next(_recognising(path, candidates), None)
    if found is None:
        raise unrecognised(path, source)
    return found


def unrecognised(path: Path, source: str | None = None) -> IngestError:
    """Why no reader (of ``source``, if given) recognises a file, in French, naming what it can.

    In this order: a file that cannot be opened; an empty file; a file of another source's format; the
    diagnosis of the reader whose format the file is nearest to (a wrong encoding, a missing sheet, a missing
    column, another separator, another namespace: its optional ``diagnose(path)``); else the formats expected.
    """
    candidates = readers_for(source) if source else list(REGISTRY.values())
    name = str(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(_EMPTY_PROBE + 1)
    except OSError as error:
        return IngestError(name, f"fichier illisible : {error.strerror or error}")
    if len(head) <= _EMPTY_PROBE and not head.lstrip(b"\xef\xbb\xbf\xff\xfe").strip(b" \t\r\n\x00"):
        return IngestError(name, "fichier vide : aucun contenu à importer")
    if source:
        other = next(_recognising(path, [r for r in REGISTRY.values() if r.source != source]), None)
        if other is not None:
            return IngestError(
                name, f"ce fichier n'est pas de la source {source} : c'est le format {other.label} ({other.source})"
            )
    diagnoses: list[tuple[float, IngestError]] = []
    for reader in candidates:
        diagnose = getattr(reader, "diagnose", None)
        try:
            found = diagnose(path) if diagnose is not None else None
        except (OSError, ValueError):
            continue
        if found is not None:
            diagnoses.append(found)
    if diagnoses:  # the format the file is nearest to
        return max(diagnoses, key=lambda d: d[0])[1]
    wanted = f" de la source {source}" if source else ""
    formats = ", ".join(sorted(r.label for r in candidates))
    return IngestError(name, f"format non reconnu{wanted} : le contenu n'est celui d'aucun format attendu ({formats})")


#: A file whose first bytes are all there is and are blank is empty (whitespace, a byte-order mark).
_EMPTY_PROBE = 4096


def _recognising(path: Path, candidates: list[Reader]) -> Iterator[Reader]:
    for reader in candidates:
        try:
            if reader.sniff(path):
                yield reader
        except (OSError, ValueError):
            continue
