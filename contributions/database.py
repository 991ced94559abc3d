"""The SQLite databases of contributions (accounts, proposals): one connection a file, shared under a lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path


def open_database(path: Path, schema: str) -> tuple[sqlite3.Connection, threading.Lock]:
    """Open (creating it and its folder if need be) the database at ``path`` with ``schema``, in WAL mode and
    autocommit; the connection serves every thread, one at a time under the returned lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    db.row_factory = sqlite3.Row
    lock = threading.Lock()
    with lock:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
    return db, lock
