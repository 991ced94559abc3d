"""Entity resolution: which collectivité, structure, technology, person or organisation a record names.

Every decision (what was matched, how, with which score and why) is kept and written to the
``resolution`` graph, so that a researcher can audit each link and a reviewer can correct doubtful ones.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import PROV, SKOS

from ingest.terms import recurring_literal, text_literal
from ingest.territories import load_referentiel
from kg.store import Store, Triple
from ontology import iri
from ontology.namespaces import CAP

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"

NIVEAU_CLASS = {
    "commune": CAP.Commune,
    "epci": CAP.Intercommunalite,
    "departement": CAP.Departement,
    "region": CAP.Region,
}

@dataclass(frozen=True)
class Resolved:
    """A collectivité or structure found for a name as written in a source."""

    iri: URIRef
    niveau: str  # commune, epci, departement, region, structure
    code: str  # INSEE code, SIREN, département or région code, structure slug
    nom: str  # the official name
    score: float
    methode: str
    raison: str
    population: int | None = None
    territoire: URIRef | None = None


@dataclass
class Decision:
    """One resolution decision, as recorded in the ``resolution`` graph."""

    record: URIRef
    entity: URIRef | None
    methode: str
    score: float
    raison: str
    candidats: list[URIRef] = field(default_factory=list)
    doubtful: bool = False


@dataclass(frozen=True)
class Structure:
    """A structure de mutualisation from the curated table, with the area it serves."""

    slug: str
    nom: str
    anciens_noms: tuple[str, ...]
    departements: tuple[str, ...]
    type: str


@lru_cache(maxsize=1)
def structures(path: Path | None = None) -> dict[str, Structure]:
    """The curated structures de mutualisation, keyed by every normalised name (current and former)."""
    table: dict[str, Structure] = {}
    with open(path or REFERENCE_DIR / "structures_mutualisation.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            former = tuple(n.strip() for n in row["anciens_noms"].split("|") if n.strip())
            deps = tuple(d.strip() for d in row["departements"].split("|") if d.strip())
            structure = Structure(iri.slug(row["nom"]), row["nom"], former, deps, row["type"])
            # autres_noms: other spellings of the current name ("Syndicat mixte Manche Numérique")
            others = f"{row.get('sigles') or ''}|{row.get('autres_noms') or ''}"
            for name in (row["nom"], *former, *(a for a in others.split("|") if a.strip())):
                table[iri.normalise_nom(name)] = structure
    return table


@lru_cache(maxsize=1)
def technology_aliases(path: Path | None = None) -> dict[str, str]:
    """Normalised spelling → canonical product name, from the curated alias table."""
    table: dict[str, str] = {}
    with open(path or REFERENCE_DIR / "technologies.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            canonical = row["nom"].strip()
            for spelling in (canonical, *row["alias"].split("|")):
                if spelling.strip():
                    table[technology_key(spelling)] = canonical
    return table


_NIVEAU_PREFIXES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "commune",
        (
            "ville de ",
            "ville d ",
            "ville du ",
            "commune de ",
            "commune d ",
            "commune du ",
            "mairie de ",
            "mairie d ",
            "mairie du ",
            "village de ",
        ),
    ),
    (
        "departement",
        (
            "conseil departemental ",
            "conseil general ",
            "departement de ",
            "departement du ",
            "departement des ",
            "departement d ",
        ),
    ),
    ("region", ("conseil regional ", "region ", "collectivite de corse", "collectivite territoriale ")),
    (
        "epci",
        (
            "communaute de communes ",
            "communaute d agglomeration ",
            "communaute urbaine ",
            "metropole ",
            "eurometropole ",
            "cc ",
            "ca ",
            "cu ",
            "agglo ",
        ),
    ),
)


def niveau_du_nom(nom: str) -> str | None:
    """The kind of collectivité a name says it is ("Ville de Nantes" is the commune, not Nantes Métropole).

    The generic words are what tells them apart, and :func:`ontology.iri.normalise_nom` drops them, so the
    level is read from the folded name before any lookup.
    """
    folded = iri.normalise_texte(nom) + " "
    for niveau, prefixes in _NIVEAU_PREFIXES:
        if folded.startswith(prefixes):
            return niveau
    return None


def technology_key(name: str) -> str:
    """The key two spellings of one product share: normalised, without spaces, dots or hyphens."""
    return "".join(ch for ch in iri.normalise_nom(name) if ch.isalnum())


class Resolver:
    """Resolves the names of one import and remembers every decision it took."""

    def __init__(self, store: Store | None, source: str, scope: str | None = None) -> None:
        """``scope`` is the format of a source imported in several formats (NetPublic): its decisions are
        tagged with it (``cap:versionFormat``), so that importing one format replaces only its own."""
        self.store = store
        self.source = source
        self.scope = scope
        self.ref = load_referentiel()
        self.decisions: list[Decision] = []
        self._technologies: dict[str, tuple[URIRef, str, set[str]]] = {}
        # The same names come back record after record (a commune carries many actions): look each up once.
        self._found: dict[tuple[str | None, ...], Resolved | None] = {}

    # --- collectivités -------------------------------------------------------------------------------
    def collectivite(
        self,
        record: URIRef,
        nom: str,
        *,
        insee: str | None = None,
        siren: str | None = None,
        code_postal: str | None = None,
        niveau: str | None = None,
        departement: str | None = None,
        ville: str | None = None,
    ) -> Resolved | None:
        """Find the collectivité a record names: by INSEE code, SIREN, postal code + name, then name.

        ``niveau`` narrows the search when the source says what kind of carrier it is. Structures de
        mutualisation are found by their current or former names. Returns None when nothing fits; the
        decision (or its absence) is recorded either way.
        """
        key = (nom, insee, siren, code_postal, niveau, departement, ville)
        if key not in self._found:
            self._found[key] = self._find_collectivite(*key)  # type: ignore[arg-type]
        found = self._found[key]
        if found is None:
            self.decisions.append(Decision(record, None, "aucune", 0.0, f"aucune collectivité trouvée pour « {nom} »"))
        else:
            self.decisions.append(Decision(record, found.iri, found.methode, found.score, found.raison))
        return found

    def _find_collectivite(
        self,
        nom: str,
        insee: str | None,
        siren: str | None,
        code_postal: str | None,
        niveau: str | None,
        departement: str | None,
        ville: str | None,
    ) -> Resolved | None:
        ref = self.ref
        niveau = niveau or niveau_du_nom(nom)
        if insee and insee in ref.communes:
            return self._commune(insee, 1.0, "code-insee", f"code INSEE {insee}")
        if siren and siren in ref.epci:
            return self._epci(siren, 1.0, "siren", f"SIREN {siren}")
        if niveau in (None, "structure", "structure_mutualisation"):
            structure = structures().get(iri.normalise_nom(nom))
            if structure is not None:
                return self.structure_resolved(structure, 0.95, "nom-structure", f"nom de structure « {nom} »")
        if niveau in (None, "region"):
            region = ref.region_par_nom(nom)
            if region is not None:
                code, former = region
                reason = f"ancienne région « {nom} » → {ref.regions[code].nom}" if former else f"nom « {nom} »"
                return self._region(code, 0.85 if former else 0.95, "nom-region", reason)
        if niveau in (None, "departement"):
            dep = ref.departement_par_nom(nom)
            if dep is not None:
                return self._departement(dep, 0.95, "nom-departement", f"nom « {nom} »")
        if niveau in (None, "commune"):
            if code_postal:
                code = ref.commune_par_cp_nom(code_postal, ville or nom)
                if code is not None:
                    return self._commune(
                        code, 0.95, "code-postal-nom", f"code postal {code_postal} + « {ville or nom} »"
                    )
            codes = ref.communes_par_nom(ville or nom, departement)
            if len(codes) == 1:
                where = f" dans le département {departement}" if departement else ""
                score = 0.9 if departement else 0.75
                return self._commune(codes[0], score, "nom-commune", f"nom « {ville or nom} »{where}")
        # after the communes: a bare town name means the town, not the EPCI named after it
        if niveau in (None, "epci"):
            epci = ref.epci_par_nom(nom)
            if epci is not None:
                return self._epci(epci, 0.9, "nom-epci", f"nom d'EPCI « {nom} »")
        return None

    def structure_resolved(self, structure: Structure, score: float, methode: str, raison: str) -> Resolved:
        return Resolved(
            iri.structure(structure.nom), "structure", structure.slug, structure.nom, score, methode, raison
        )

    def _commune(self, code: str, score: float, methode: str, raison: str) -> Resolved:
        c = self.ref.communes[code]
        return Resolved(
            iri.collectivite("commune", code),
            "commune",
            code,
            c.nom,
            score,
            methode,
            raison,
            c.population,
            iri.territoire("commune", code),
        )

    def _epci(self, siren: str, score: float, methode: str, raison: str) -> Resolved:
        e = self.ref.epci[siren]
        return Resolved(
            iri.collectivite("epci", siren),
            "epci",
            siren,
            e.nom,
            score,
            methode,
            raison,
            e.population,
            iri.territoire("epci", siren),
        )

    def _departement(self, code: str, score: float, methode: str, raison: str) -> Resolved:
        d = self.ref.departements[code]
        return Resolved(
            iri.collectivite("departement", code),
            "departement",
            code,
            d.nom,
            score,
            methode,
            raison,
            d.population,
            iri.territoire("departement", code),
        )

    def _region(self, code: str, score: float, methode: str, raison: str) -> Resolved:
        r = self.ref.regions[code]
        return Resolved(
            iri.collectivite("region", code),
            "region",
            code,
            r.nom,
            score,
            methode,
            raison,
            r.population,
            iri.territoire("region", code),
        )

    # --- technologies, organisations, persons ------------------------------------------------------------
    def technologie(self, record: URIRef, name: str) -> URIRef:
        """The one node of a product, whatever the spelling (WordPress = Wordpress = wordpress)."""
        key = technology_key(name)
        canonical = technology_aliases().get(key)
        label = canonical or name.strip()
        node = iri.technologie(label)
        known = self._technologies.setdefault(str(node), (node, label, set()))
        if name.strip() != label:
            known[2].add(name.strip())
        methode = "alias-technologie" if canonical else "nom-normalise"
        self.decisions.append(
            Decision(record, node, methode, 1.0 if canonical else 0.9, f"« {name.strip()} » → {label}")
        )
        return node

    def technology_triples(self) -> Iterator[Triple]:
        """The technology nodes met in this import, with their spellings as ``skos:altLabel``."""
        for node, label, spellings in self._technologies.values():
            yield node, RDF.type, CAP.Technologie
            yield node, SKOS.prefLabel, text_literal(label)
            yield node, RDFS.label, text_literal(label)
            for spelling in sorted(spellings):
                yield node, SKOS.altLabel, text_literal(spelling)

    def organisation(self, name: str) -> URIRef:
        return iri.organisation(name)

    def personne(self, name: str, org_key: str) -> URIRef:
        return iri.personne(name, org_key)

    def record(
        self,
        record: URIRef,
        entity: URIRef | None,
        methode: str,
        score: float,
        raison: str,
        candidats: list[URIRef] | None = None,
        doubtful: bool = False,
    ) -> None:
        """Record a decision taken by a reader itself (EPN duplicates, actor identity…)."""
        self.decisions.append(Decision(record, entity, methode, score, raison, candidats or [], doubtful))

    # --- RDF ------------------------------------------------------------------------------------------
    def collectivite_triples(self, found: Resolved) -> Iterator[Triple]:
        """The canonical facts of a resolved collectivité (class, official name, codes, territory)."""
        node = found.iri
        if found.niveau == "structure":
            yield node, RDF.type, CAP.StructureMutualisation
            yield node, RDFS.label, text_literal(found.nom, "fr")
            structure = next((s for s in structures().values() if s.slug == found.code), None)
            if structure is not None:
                for former in structure.anciens_noms:
                    yield node, CAP.ancienNom, text_literal(former, "fr")
                for dep in structure.departements:
                    yield node, CAP.territoire, iri.territoire("departement", dep)
            return
        yield node, RDF.type, NIVEAU_CLASS[found.niveau]
        yield node, RDFS.label, text_literal(found.nom, "fr")
        yield node, CAP.territoire, found.territoire  # type: ignore[misc]
        if found.niveau == "epci":
            yield node, CAP.siren, text_literal(found.code)
        elif found.niveau == "commune":  # a département's or région's code is on its territory (igeo:codeINSEE)
            yield node, CAP.codeInsee, text_literal(found.code)
        if found.population is not None:
            yield node, CAP.population, Literal(found.population, datatype=XSD.integer)

    def decision_triples(self) -> Iterator[Triple]:
        """The decisions of this import for the ``resolution`` graph, one node per distinct decision.

        A commune named by a hundred actions is resolved the same way a hundred times (same entity, method,
        score, reason and candidates): that is one decision, naming each record it was taken for with
        ``cap:enregistrement``, rather than a hundred copies of it. Nothing is lost (every record still finds
        its decision by ``?d cap:enregistrement <record>``) and the graph grows with the distinct names of a
        source, not with its rows. The node's IRI is a digest of what was decided (and of the format, for a
        source imported in several formats), so that it is stable across imports.
        """
        source, agent = text_literal(self.source), URIRef(f"{iri.ID}agent/capitalis-resolution")
        groups: dict[tuple[object, ...], list[URIRef]] = {}
        for d in self.decisions:
            key = (d.entity, d.methode, round(d.score, 4), d.raison, tuple(d.candidats), d.doubtful)
            groups.setdefault(key, []).append(d.record)
        scope = recurring_literal(self.scope) if self.scope else None
        for (entity, methode, score, raison, candidats, doubtful), records in groups.items():
            what = "|".join([self.scope or "", str(entity), methode, str(score), raison, *map(str, candidats)])
            node = iri.decision_resolution(self.source, what)
            yield node, RDF.type, CAP.DecisionResolution
            yield node, CAP.source, source
            if scope is not None:
                yield node, CAP.versionFormat, scope
            for record in dict.fromkeys(records):
                yield node, CAP.enregistrement, record
            if entity is not None:
                yield node, CAP.entite, entity
            for candidate in candidats:
                yield node, CAP.candidat, candidate
            yield node, CAP.methode, recurring_literal(methode)
            yield node, CAP.score, recurring_literal(score, datatype=XSD.decimal)
            yield node, CAP.raison, recurring_literal(raison, lang="fr")
            if doubtful:
                yield node, CAP.aRevoir, recurring_literal(True)
            yield node, PROV.wasAssociatedWith, agent


def collectivite_du_referentiel(key: str) -> Resolved | None:
    """The collectivité whose IRI key is ``key`` (INSEE code, SIREN, ``dep-XX``, ``reg-XX``) in the referential.

    A collectivité that carries no experience has no node in the graph, yet its IRI is minted (``match`` names the
    filleul by it): this gives the facts an import would have written for it, or None for an unknown key.
    """
    resolver = Resolver(None, "referentiel")
    ref = resolver.ref
    how = (1.0, "referentiel", f"clé {key}")
    if key in ref.communes:
        return resolver._commune(key, *how)
    if key in ref.epci:
        return resolver._epci(key, *how)
    if key.startswith("dep-") and key[4:] in ref.departements:
        return resolver._departement(key[4:], *how)
    if key.startswith("reg-") and key[4:] in ref.regions:
        return resolver._region(key[4:], *how)
    return None
