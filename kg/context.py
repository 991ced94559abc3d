"""The one context of a running Capitalis: its settings, its store, and the caches of the domain packages.

The composition root (the CLI, the API's ``create_app``, the explorer's app) builds one :class:`Context` and
hands it down, as datasette hands its ``Datasette`` object to every view; no module keeps settings or caches
of its own. A domain package keeps what it derives from the graph (the search index, the parrainage carrier
table) in :meth:`Context.cached` under a name of its own, with a key that says when it is stale (typically
the store's generation), so that a cache never outlives the state it was built from.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from kg.settings import Settings
from kg.sparql_server import from_settings
from kg.store import Store, open_store

T = TypeVar("T")


@dataclass(eq=False)
class Context:
    """Settings, store and caches of one process (or one test)."""

    settings: Settings
    store: Store
    _caches: dict[str, tuple[Hashable, Any]] = field(default_factory=dict, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    @classmethod
    def open(cls, settings: Settings, *, read_only: bool = False, path: Path | None = None) -> Context:
        """A context on the store the settings name: the SPARQL server of ``settings.store`` when set (several
        processes share it), else the embedded store of ``settings.home`` (or ``path``, which always means an
        embedded store).

        ``read_only``: a reader. On the embedded store it opens the writer's latest snapshot and takes no lock,
        so that it works beside ``capitalis serve`` and imports; on a server it refuses writes.
        """
        if settings.store and path is None:
            return cls(settings, from_settings(settings, read_only=read_only))
        return cls(settings, open_store(path or settings.store_path, read_only=read_only))

    def cached(self, name: str, build: Callable[[], T], *, key: Hashable = None) -> T:
        """The value cached under ``name``; built by ``build()`` when missing or when ``key`` changed.

        Built under a lock, so that two threads asking at once build it once. A replaced value that has a
        ``close()`` is closed.
        """
        with self._lock:
            hit = self._caches.get(name)
            if hit is not None and hit[0] == key:
                return hit[1]  # type: ignore[no-any-return]
            value = build()
            self._caches[name] = (key, value)
        if hit is not None and hit[1] is not value:
            _close(hit[1])
        return value

    def peek(self, name: str) -> Any:
        """The value cached under ``name`` whatever its key, or ``None``."""
        with self._lock:
            hit = self._caches.get(name)
        return None if hit is None else hit[1]

    def forget(self, name: str | None = None) -> None:
        """Drop one cache (or all), closing what can be closed: after a write that they do not follow."""
        with self._lock:
            names = [name] if name is not None else list(self._caches)
            dropped = [self._caches.pop(n) for n in names if n in self._caches]
        for _, value in dropped:
            _close(value)

    def close(self) -> None:
        """Drop the caches and close the store (idempotent)."""
        self.forget()
        with contextlib.suppress(Exception):
            self.store.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _close(value: Any) -> None:
    closer = getattr(value, "close", None)
    if callable(closer):
        with contextlib.suppress(Exception):
            closer()
