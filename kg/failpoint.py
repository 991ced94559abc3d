"""Named points where a test makes an import (or the store under it) die as a ``kill -9`` would (crash-safety tests).

``CAPITALIS_FAILPOINT=<name>`` in the environment makes the process SIGKILL itself when it reaches that point;
``<name>:<n>`` at its n-th passage. Unset (always, outside tests), :func:`failpoint` costs one dict lookup.
It is read from the environment on purpose, not from the settings: no user option should ever reach it.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

ENV = "CAPITALIS_FAILPOINT"

#: The points of an import, in the order it passes them.
POINTS = (
    "import.reading",  # records being read (each record passes it: "import.reading:10" dies mid-stream)
    "import.staged",  # the import's result built in its staging store, nothing written yet
    "store.in-place",  # a commit of graphs written in place (a first import's), before the transaction closing them
    "store.bulk-creation",  # a commit bulk-loading graphs that did not exist (or many quads), noted, not yet loaded
    "store.bulk-loaded",  # the same, loaded, the transaction that closes the loads not yet applied
    "import.private-committed",  # the private graphs written, the public ones not yet
    "import.committed",  # every graph written
)

_passages: Counter[str] = Counter()


def failpoint(name: str) -> None:
    """SIGKILL this process here when ``CAPITALIS_FAILPOINT`` names this point (and its passage)."""
    wanted = os.environ.get(ENV)
    if not wanted or not wanted.startswith(name):
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _passages[name] += 1
    if _passages[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
