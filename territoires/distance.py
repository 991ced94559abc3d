"""Distances on the Earth's surface: great-circle (haversine) distances from one point to many, in km.

Vectorised with numpy: the parrainage measures the distance from a filleul to every candidate in one call.
The scalar form for two points is :func:`ingest.territories.distance_km` (the same formula and radius).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["EARTH_RADIUS_KM", "haversine"]

#: Mean Earth radius (IUGG), in km.
EARTH_RADIUS_KM = 6371.0088


def haversine(lat1: float, lon1: float, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distances (km) from one point to many (NaN where a point is unknown)."""
    p1, p2 = math.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(lon2) - math.radians(lon1)
    a = np.sin(dp / 2) ** 2 + math.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
