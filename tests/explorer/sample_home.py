"""The sample home of the explorer's tests: built by :func:`explorer.testing.build_home` (shared with the bench)."""

from explorer.testing import EMBEDDER, build_home

__all__ = ["EMBEDDER", "build_home"]
