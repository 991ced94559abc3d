"""Static maps drawn as inline SVG: choropleths, points and links over the outlines of France.

No tile server, no WebGL: the outlines come from ``explorer/assets/*.geojson`` (built by
``tools/build_shapes.py``), projected equirectangularly around 46.5° N, which is faithful enough at the scale of
the country. Hovering a shape or a point shows its ``<title>``. Used where a map must render fast everywhere
(fiche, dashboard, parrainage); the search page keeps an interactive deck.gl map.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import streamlit as st

from explorer.data import ASSETS_DIR

#: Metropolitan France (with Corsica): lon_min, lat_min, lon_max, lat_max.
METRO = (-5.3, 41.2, 9.7, 51.2)
_COS = math.cos(math.radians(46.5))


def _project(bbox: Sequence[float], width: int) -> tuple[float, int]:
    lon0, lat0, lon1, lat1 = bbox
    scale = width / ((lon1 - lon0) * _COS)
    height = round((lat1 - lat0) * scale)
    return scale, height


def xy(lat: float, lon: float, bbox: Sequence[float] = METRO, width: int = 600) -> tuple[float, float]:
    """Pixel position of a point in a map of ``bbox`` that is ``width`` pixels wide."""
    scale, _ = _project(bbox, width)
    return (lon - bbox[0]) * _COS * scale, (bbox[3] - lat) * scale


def _rings(geometry: dict[str, Any]) -> Iterable[list[list[float]]]:
    if geometry["type"] == "Polygon":
        yield from geometry["coordinates"]
    elif geometry["type"] == "MultiPolygon":
        for polygon in geometry["coordinates"]:
            yield from polygon


@lru_cache(maxsize=16)
def _paths(name: str, bbox: tuple[float, ...], width: int) -> tuple[tuple[str, str, str], ...]:
    """(code, name, SVG path) of every feature of an asset that shows in ``bbox``."""
    shapes = json.loads((ASSETS_DIR / f"{name}.geojson").read_text(encoding="utf-8"))
    out = []
    for feature in shapes["features"]:
        parts = []
        for ring in _rings(feature["geometry"]):
            if not any(bbox[0] <= lon <= bbox[2] and bbox[1] <= lat <= bbox[3] for lon, lat in ring):
                continue
            points: list[tuple[int, int]] = []
            for lon, lat in ring:  # whole pixels, repeated points dropped: a third of the size, same picture
                x, y = xy(lat, lon, bbox, width)
                point = (round(x), round(y))
                if not points or point != points[-1]:
                    points.append(point)
            if len(points) >= 3:
                parts.append("M" + "L".join(f"{x},{y}" for x, y in points) + "Z")
        if parts:
            out.append((feature["properties"]["code"], feature["properties"]["nom"], "".join(parts)))
    return tuple(out)


def colour_scale(value: float, top: float) -> str:
    """White (0) to dark red (top)."""
    t = 0.0 if not top else max(0.0, min(1.0, value / top))
    r, g, b = int(255 - 75 * t), int(245 - 200 * t), int(235 - 200 * t)
    return f"#{r:02x}{g:02x}{b:02x}"


def render(
    shapes: str = "contour",
    *,
    fills: dict[str, str] | None = None,
    titles: dict[str, str] | None = None,
    points: Sequence[dict[str, Any]] = (),
    links: Sequence[tuple[tuple[float, float], tuple[float, float]]] = (),
    bbox: Sequence[float] = METRO,
    width: int = 600,
    label: str = "Carte",
) -> str:
    """An SVG map: ``shapes`` filled by code (``fills``), ``points`` (``lat``, ``lon``, ``r``, ``colour``,
    ``title``) and straight ``links`` between (lat, lon) pairs."""
    box = tuple(float(v) for v in bbox)
    _, height = _project(box, width)
    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' role='img' "
        f"aria-label='{html.escape(label)}' style='width:100%;max-width:{width}px;height:auto'>"
    ]
    for code, name, path in _paths(shapes, box, width):
        fill = (fills or {}).get(code, "#f3f2ee")
        title = html.escape((titles or {}).get(code, name))
        out.append(f"<path d='{path}' fill='{fill}' stroke='#999' stroke-width='0.6'><title>{title}</title></path>")
    for (lat0, lon0), (lat1, lon1) in links:
        x0, y0 = xy(lat0, lon0, box, width)
        x1, y1 = xy(lat1, lon1, box, width)
        out.append(
            f"<line x1='{x0:.1f}' y1='{y0:.1f}' x2='{x1:.1f}' y2='{y1:.1f}' stroke='#555' "
            "stroke-width='1' stroke-dasharray='4 3' opacity='0.7'/>"
        )
    for p in points:
        x, y = xy(float(p["lat"]), float(p["lon"]), box, width)
        r = float(p.get("r", 5))
        colour = p.get("colour", "#e4572e")
        title = html.escape(str(p.get("title", "")))
        out.append(
            f"<circle cx='{x:.1f}' cy='{y:.1f}' r='{r:.1f}' fill='{colour}' fill-opacity='0.85' "
            f"stroke='#fff' stroke-width='1'><title>{title}</title></circle>"
        )
        if p.get("text"):
            out.append(
                f"<text x='{x:.1f}' y='{y + 4:.1f}' text-anchor='middle' font-size='11' font-weight='700' "
                f"fill='#fff' pointer-events='none'>{html.escape(str(p['text']))}</text>"
            )
    out.append("</svg>")
    return "".join(out)


def height_of(bbox: Sequence[float] = METRO, width: int = 600) -> int:
    """Pixel height of a map of ``bbox`` drawn ``width`` pixels wide."""
    return _project(tuple(float(v) for v in bbox), width)[1]


def show(svg: str, height: int) -> None:
    """Display an SVG map in the page (an iframe: Streamlit's HTML sanitiser drops SVG)."""
    page = f"<!doctype html><html><body style='margin:0;font-family:sans-serif'>{svg}</body></html>"
    st.iframe(page, height=height + 6)


def bbox_around(points: Sequence[tuple[float, float]], margin: float = 0.6) -> tuple[float, float, float, float]:
    """The metropolitan box, or a tighter one around points all in one area (with ``margin`` degrees)."""
    metro = [(la, lo) for la, lo in points if METRO[1] <= la <= METRO[3] and METRO[0] <= lo <= METRO[2]]
    if not metro:
        return METRO
    lats = [p[0] for p in metro]
    lons = [p[1] for p in metro]
    lat_span = max(lats) - min(lats) + 2 * margin
    lon_span = max(lons) - min(lons) + 2 * margin
    if lat_span > 6 or lon_span > 8:
        return METRO
    # keep the country's aspect ratio so the outline is not stretched
    half_lat = max(lat_span, lon_span * _COS * (METRO[3] - METRO[1]) / ((METRO[2] - METRO[0]) * _COS)) / 2
    half_lon = half_lat * (METRO[2] - METRO[0]) / (METRO[3] - METRO[1])
    clat, clon = (max(lats) + min(lats)) / 2, (max(lons) + min(lons)) / 2
    return (clon - half_lon, clat - half_lat, clon + half_lon, clat + half_lat)
