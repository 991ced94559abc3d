"""Bench: end-to-end ingest throughput on synthetic exports N× the samples, against rdflib's ``Graph.add``.

For each source, the sample export is replicated N times (new ids, names made distinct so that duplicate
detection does not fold the copies) into a file of the source's own format, then imported by the real
pipeline (`ingest.load.import_file`: parse → validate → map → resolve → load) into a fresh embedded store.
The baseline, in the same run, adds the very triples the import produced to an rdflib ``Graph`` one by one;
"load-only" writes them, graph by graph, into a fresh store with ``Store.load`` (the ceiling of any import).

Wall-clock figures depend on what else the machine runs, so the CPU time of the import (every thread of the
process, Oxigraph's included) is printed beside them, with the load average when the run started.

    python bench/ingest_throughput.py [--factor 100] [--repeat 3] [--sources oten …] [--json] [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import os
import random
import shutil
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
from rdflib import Graph, URIRef

from ingest.load import import_file
from ingest.resolve import Resolver
from ingest.territories import Commune, load_referentiel
from kg.francais import de
from kg.store import open_store

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


@dataclass(frozen=True)
class Carrier:
    """A stand-in EPCI, département, région (or structure de mutualisation, as an unknown organisation): its
    name, code, name as a carrier, and main commune (None for a structure)."""

    nom: str
    code: str
    porteur: str
    commune: Commune | None


class Places:
    """Where copy ``k`` of the samples takes place: each commune of the samples stands, in each copy after the
    first, for another real commune of the referential (seeded by copy and commune, so that the three formats
    agree: an OTeN fiche and the Villes Internet action telling the same project stay with one carrier).

    Replicating the samples' carriers instead would give a handful of communes thousands of experiences each,
    which no real directory has (about 35,000 communes for a million experiences). EPCI, départements and
    régions likewise stand for another of their kind (:meth:`carrier`); a structure de mutualisation for a
    structure the referential does not know (it lists ten): an organisation, reported as unresolved.
    """

    def __init__(self) -> None:
        self.ref = load_referentiel()
        self.postcodes = self.ref.codes_postaux_par_commune
        names = Counter(c.nom for c in self.ref.communes.values())
        self.codes = sorted(  # stand-ins a name alone designates (OTeN fiches often give no code)
            code for code, c in self.ref.communes.items()
            if c.latitude is not None and c.population and code in self.postcodes and names[c.nom] == 1
        )

    def commune(self, k: int, code: str | None) -> tuple[Commune, Commune] | None:
        """``(original, stand-in)`` for copy ``k``; None for the first copy or a code the referential lacks."""
        original = self.ref.communes.get(code or "")
        if k == 0 or original is None:
            return None
        return original, self.ref.communes[random.Random(f"{k}:{code}").choice(self.codes)]

    def by_name(self, k: int, name: str) -> tuple[Commune, Commune] | None:
        codes = self.ref.communes_par_nom(name)
        return self.commune(k, codes[0]) if len(codes) == 1 else None

    def postcode(self, commune: Commune) -> str:
        return self.postcodes[commune.code_insee][0]

    def carrier(self, k: int, nom: str, niveau: str | None = None, code: str | None = None) -> Carrier | None:
        """Copy ``k``'s stand-in for an EPCI, a département or a région named ``nom`` (or coded ``code``): its
        official name, code, the name a carrier of that kind goes by, and its most populous commune."""
        level, original = (niveau, code) if code else self._resolved(nom, niveau)
        if k and level == "structure":  # the referential knows ten: the others are organisations to it
            name = f"{self._resolved_name(nom)} ({k})"
            return Carrier(name, "", name, None)
        if k == 0 or level not in self.largest or original not in self.largest[level]:
            return None
        choices = self.largest[level]
        chosen = sorted(choices)[random.Random(f"{k}:{level}:{original}").randrange(len(choices))]
        commune, ref = choices[chosen], self.ref
        if level == "epci":
            return Carrier(ref.epci[chosen].nom, chosen, ref.epci[chosen].nom, commune)
        if level == "departement":
            dep = ref.departements[chosen]
            return Carrier(dep.nom, chosen, f"Conseil départemental {de(dep.nom, dep.tncc)}", commune)
        return Carrier(ref.regions[chosen].nom, chosen, f"Région {ref.regions[chosen].nom}", commune)

    @staticmethod
    def moved(value: object, before: float | None, after: float | None) -> object:
        """A coordinate moved like the commune (a defective value stays defective)."""
        try:
            number = float(str(value).replace(",", "."))
        except ValueError:
            return value
        if before is None or after is None:
            return value
        return round(number + after - before, 6)

    @functools.cached_property
    def largest(self) -> dict[str, dict[str, Commune]]:
        """The most populous commune of each EPCI, département and région."""
        out: dict[str, dict[str, Commune]] = {"epci": {}, "departement": {}, "region": {}}
        for c in sorted(self.ref.communes.values(), key=lambda c: c.population or 0):
            if c.population and c.latitude is not None and c.code_insee in self.postcodes:
                for level, key in (("epci", c.epci_siren), ("departement", c.departement), ("region", c.region)):
                    if key:
                        out[level][key] = c
        return out

    @functools.cache  # noqa: B019 - one Places per generation
    def _resolved(self, nom: str, niveau: str | None) -> tuple[str | None, str | None]:
        found = Resolver(None, "villes-internet").collectivite(URIRef("urn:bench"), nom, niveau=niveau)
        return (found.niveau, found.code) if found is not None else (None, None)

    @functools.cache  # noqa: B019 - one Places per generation
    def _resolved_name(self, nom: str) -> str:
        found = Resolver(None, "villes-internet").collectivite(URIRef("urn:bench"), nom)
        return found.nom if found is not None else nom


def synth_oten(factor: int, out: Path, places: Places | None = None) -> None:
    ns = "urn:oten:fiche:1.2"
    ET.register_namespace("oten", ns)
    tree = ET.parse(SAMPLES / "oten_fiches.xml")
    root = tree.getroot()
    fiches = list(root)
    for fiche in fiches:
        root.remove(fiche)
    for k in range(factor):
        for fiche in fiches:
            copy = ET.fromstring(ET.tostring(fiche))
            copy.set("id", f"{fiche.get('id')}-k{k:03d}")
            title = copy.find(f"{{{ns}}}titre")
            if title is not None and title.text:
                title.text = f"{title.text} ({k})"
            if places is not None:
                _move_fiche(copy, ns, places, k)
            root.append(copy)
    tree.write(out, encoding="utf-8", xml_declaration=True)


def _move_fiche(fiche: ET.Element, ns: str, places: Places, k: int) -> None:
    """The fiche's territory and carriers replaced by copy ``k``'s stand-ins."""
    for porteur in fiche.findall(f"{{{ns}}}porteur"):
        if porteur.text and porteur.get("type") == "structure_mutualisation":
            stand_in = places.carrier(k, porteur.text)
            porteur.text = stand_in.porteur if stand_in is not None else porteur.text
    territory = fiche.find(f"{{{ns}}}territoire")
    if territory is None or not territory.text:
        return
    collectivites = [p for p in fiche.findall(f"{{{ns}}}porteur") if p.text and p.get("type") == "collectivite"]
    if territory.get("niveau") in ("epci", "departement", "region"):
        carrier = places.carrier(k, territory.text, territory.get("niveau"), territory.get("code"))
        if carrier is not None:
            territory.text = carrier.nom
            if territory.get("code"):
                territory.set("code", carrier.code)
            for porteur in collectivites:
                porteur.text = carrier.porteur
        return
    if territory.get("niveau") != "commune":
        return
    code = territory.get("code")
    moved = places.commune(k, code) if code else places.by_name(k, territory.text)
    if moved is None:
        return
    original, stand_in = moved
    territory.text = stand_in.nom
    if code:
        territory.set("code", stand_in.code_insee)
    for porteur in collectivites:
        named = original.nom in str(porteur.text)  # else another spelling ("Commune du Lude"): say it plainly
        porteur.text = str(porteur.text).replace(original.nom, stand_in.nom) if named else f"Commune de {stand_in.nom}"


def synth_netpublic(factor: int, out: Path, places: Places | None = None) -> None:
    with open(SAMPLES / "netpublic_lieux_mediation.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
        fields = reader.fieldnames or []
    with open(out, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for k in range(factor):
            for row in rows:
                name, address = f"{row['nom']} (site {k})", f"{k} bis {row['adresse']}"
                copy = {**row, "id": f"{row['id']}-k{k:03d}", "nom": name, "adresse": address}
                moved = places.commune(k, row["code_insee"]) if places is not None else None
                if moved is not None:
                    original, stand_in = moved
                    copy.update(
                        nom=name.replace(original.nom, stand_in.nom), commune=stand_in.nom,
                        code_insee=stand_in.code_insee, code_postal=places.postcode(stand_in),  # type: ignore[union-attr]
                        latitude=Places.moved(row["latitude"], original.latitude, stand_in.latitude),
                        longitude=Places.moved(row["longitude"], original.longitude, stand_in.longitude),
                    )
                writer.writerow(copy)


def synth_villes_internet(factor: int, out: Path, places: Places | None = None) -> None:
    source = openpyxl.load_workbook(SAMPLES / "villes_internet_atlaas.xlsx", read_only=True)
    target = openpyxl.Workbook(write_only=True)
    for sheet in source.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        ws = target.create_sheet(sheet.title)
        ws.append(rows[0])
        for k in range(factor if sheet.title != "Services" else 1):
            for row in rows[1:]:
                shifted = _shift(sheet.title, row, k)
                ws.append(_move_lieu(shifted, places, k) if sheet.title == "Lieux" and places else shifted)
    target.save(out)


def _shift(sheet: str, row: tuple, k: int) -> tuple:
    """The row of copy ``k``: ids made unique, links pointing at the copies of their targets."""

    def action(v: object) -> object:
        return v + 100_000 * k if isinstance(v, int) else (f"{v}-k{k}" if v not in (None, "") else v)

    def ident(v: object) -> object:
        return f"{v}-k{k}" if v not in (None, "") else v

    row = list(row)
    if sheet in ("Lieux", "Personnes"):
        row[0] = ident(row[0])
    elif sheet == "Actions":
        row[0] = action(row[0])
        if row[1]:
            row[1] = f"{row[1]} ({k})"
    elif sheet in ("Liaison Lieux", "Liaison Personnes"):
        row[0], row[1] = action(row[0]), ident(row[1])
    elif sheet == "Liaison Services":
        row[0] = action(row[0])
    return tuple(row)


def _move_lieu(row: tuple, places: Places, k: int) -> tuple:
    """A Lieux row (Id_Lieu, Type, Nom, Description, Latitude, Longitude, Adresse web, Adresse, Code postal,
    Ville, …, Population, Id_INSEE) moved to copy ``k``'s stand-in of its commune."""
    moved = places.commune(k, str(row[14] or ""))
    if moved is None:
        return _move_organisation(row, places, k)
    original, stand_in = moved
    out = list(row)
    out[2] = str(row[2] or "").replace(original.nom, stand_in.nom)
    out[3] = str(row[3] or "").replace(original.nom, stand_in.nom) or row[3]
    out[4] = Places.moved(row[4], original.latitude, stand_in.latitude)
    out[5] = Places.moved(row[5], original.longitude, stand_in.longitude)
    out[8], out[9] = places.postcode(stand_in), stand_in.nom
    out[13], out[14] = stand_in.population, stand_in.code_insee
    return tuple(out)


def _move_organisation(row: tuple, places: Places, k: int) -> tuple:
    """A Lieux row naming an EPCI, a département or a région, moved to copy ``k``'s stand-in."""
    stand_in = places.carrier(k, str(row[2] or "")) if row[2] and not row[14] else None
    if stand_in is None:
        return row
    out = list(row)
    out[2] = stand_in.porteur
    commune = stand_in.commune
    if commune is None:
        return tuple(out)
    if isinstance(row[4], (int, float)) and isinstance(row[5], (int, float)):
        out[4], out[5] = commune.latitude, commune.longitude
    out[8], out[9], out[13] = places.postcode(commune), commune.nom, None
    return tuple(out)


SOURCES = {
    "villes-internet": (synth_villes_internet, "atlaas.xlsx"),
    "netpublic": (synth_netpublic, "lieux.csv"),
    "oten": (synth_oten, "fiches.xml"),
}


def bench_source(name: str, factor: int, workdir: Path, repeat: int = 1) -> dict[str, Any]:
    make, filename = SOURCES[name]
    path = workdir / filename
    start = time.perf_counter()
    make(factor, path)
    synth_s = time.perf_counter() - start
    walls: list[float] = []
    cpus: list[float] = []
    for attempt in range(repeat):  # each time into a fresh store; the median is reported
        with open_store(workdir / f"store-{name}-{attempt}") as store:
            start, cpu_start = time.perf_counter(), time.process_time()
            report = import_file(store, path)
            walls.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu_start)
            if attempt == repeat - 1:  # what the import wrote, read back once, for the baselines below
                graphs = [g for g in store.graphs() if g.endswith(f"/graph/{name}") or f"/prive/{name}" in g]
                by_graph = {g: list(store.triples(g)) for g in graphs}
                triples = [t for g in graphs for t in by_graph[g]]
        shutil.rmtree(workdir / f"store-{name}-{attempt}", ignore_errors=True)
    ingest_s, cpu_s = statistics.median(walls), statistics.median(cpus)
    # What the store alone takes to write the same triples: no import can be faster than this.
    with open_store(workdir / f"load-only-{name}") as store:
        start = time.perf_counter()
        for g, graph_triples in by_graph.items():
            store.load(graph_triples, g)
        load_s = time.perf_counter() - start
    start = time.perf_counter()
    graph = Graph()
    for t in triples:
        graph.add(t)
    rdflib_s = time.perf_counter() - start
    records = report.created + report.updated + report.unchanged
    return {
        "source": name,
        "file_mb": round(path.stat().st_size / 1e6, 1),
        "synthesis_s": round(synth_s, 1),
        "rows_read": report.read,
        "records": records,
        "triples": len(triples),
        "ingest_s": round(ingest_s, 2),
        "ingest_runs_s": [round(w, 2) for w in walls],
        "records_per_s": round(records / ingest_s),
        "triples_per_s": round(len(triples) / ingest_s),
        "triples_per_s_range": [round(len(triples) / max(walls)), round(len(triples) / min(walls))],
        "ingest_cpu_s": round(cpu_s, 2),
        "triples_per_cpu_s": round(len(triples) / cpu_s),
        "store_load_s": round(load_s, 2),
        "store_load_triples_per_s": round(len(triples) / load_s),
        "rdflib_add_s": round(rdflib_s, 2),
        "rdflib_triples_per_s": round(len(triples) / rdflib_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factor", type=int, default=100, help="how many times the samples are replicated")
    parser.add_argument("--sources", nargs="*", default=list(SOURCES), help="sources to bench")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", type=Path, help="keep the synthetic files and stores in this folder")
    parser.add_argument("--repeat", type=int, default=3, help="imports of each file (fresh store each); median")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.keep or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        rows = [bench_source(name, args.factor, workdir, max(args.repeat, 1)) for name in args.sources]
    if args.json:
        print(json.dumps({"load_average": load, "factor": args.factor, "sources": rows}, indent=2))
        return
    buffer = io.StringIO()
    header = f"{'source':<16}{'records':>9}{'triples':>10}{'ingest s':>10}{'rec/s':>9}{'triples/s':>11}{'min–max':>16}"
    print(header + f"{'cpu s':>8}{'t/cpu-s':>9}{'load-only t/s':>15}{'rdflib t/s':>12}", file=buffer)
    for r in rows:
        spread = "–".join(map(str, r["triples_per_s_range"]))
        print(
            f"{r['source']:<16}{r['records']:>9}{r['triples']:>10}{r['ingest_s']:>10}{r['records_per_s']:>9}"
            f"{r['triples_per_s']:>11}{spread:>16}{r['ingest_cpu_s']:>8}{r['triples_per_cpu_s']:>9}"
            f"{r['store_load_triples_per_s']:>15}{r['rdflib_triples_per_s']:>12}",
            file=buffer,
        )
    print(
        f"factor {args.factor}, median of {args.repeat} imports, load average {load:.2f} on {os.cpu_count()} cores"
        " at the start",
        file=buffer,
    )
    print(buffer.getvalue(), end="")


if __name__ == "__main__":
    main()
