"""User contributions: proposals, moderation, and entry into the ``contributions`` named graph.

A contributeur proposes a new experience (carried by its own collectivity) or a correction of an existing
one; the proposal waits, ``en-attente``, in ``$CAPITALIS_HOME/contributions.sqlite`` (it names an account,
which is not public). A moderateur accepts it — its triples enter the ``contributions`` graph with their
provenance — or rejects it with a reason; the contributeur reads the status.

In the graph an accepted contribution is a ``cap:Contribution`` (``prov:Entity``) with its target
(``cap:cible``), ``cap:statutModeration "acceptee"``, the collectivity it comes from
(``prov:wasAttributedTo``), the proposal and acceptance times (``dct:created``, ``prov:generatedAtTime``), the
justification (``dct:description``), and ``cap:source "contributions"`` / ``cap:identifiantSource`` so that
the experiences derived from it are listed and searched like those of a source. A correction is also
stated as a reified statement (``rdf:subject``/``rdf:predicate``/``rdf:object``); a correction of a field
that may hold several values (texts, links, technologies, services) is asserted on the experience as
well, while a single-valued field (title, dates) stays a reified statement: the source's own value keeps
its graph, and the shapes (one title) keep holding on the union of the graphs.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator
from rdflib import RDF, RDFS, SKOS, XSD, URIRef
from rdflib import Literal as RLiteral
from rdflib.namespace import DCTERMS, PROV

from contributions.accounts import User
from contributions.database import open_database
from ingest.resolve import technology_aliases, technology_key
from kg.errors import Forbidden, InvalidInput, NotFound
from kg.store import Store, Triple
from ontology.iri import concept, experience, experience_from_key, graph, technologie
from ontology.namespaces import CAP, ID

STATUTS: dict[str, str] = {"en-attente": "en attente", "acceptee": "acceptée", "refusee": "refusée"}
SOURCE = "contributions"

_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
_NOTATION = re.compile(r"^(?:[1-9](?:[a-z]\d?)?|S\d{1,3})$")

#: Correctable fields: predicate, value kind, and whether the experience may hold several values.
CHAMPS: dict[str, tuple[str, str, bool]] = {
    "titre": (str(DCTERMS.title), "texte", False),
    "sous_titre": (str(CAP.sousTitre), "texte", True),
    "synthese": (str(CAP.synthese), "texte", True),
    "actions": (str(CAP.actions), "texte", True),
    "resultats": (str(CAP.resultats), "texte", True),
    "recommandations": (str(CAP.recommandations), "texte", True),
    "description": (str(DCTERMS.description), "texte", True),
    "date_debut": (str(CAP.dateDebut), "date", False),
    "date_fin": (str(CAP.dateFin), "date", False),
    "lien": (str(CAP.lien), "url", True),
    "technologie": (str(CAP.technologie), "technologie", True),
    "service": (str(CAP.service), "service", True),
}


# --- proposals ------------------------------------------------------------------------------------------------

#: Examples of the proposals in the OpenAPI schema (Arçais proposing its « portail famille »; a correction of vi-1175).
_NOUVELLE = {
    "type": "experience",
    "titre": "Un portail famille pour la cantine et la garderie d'Arçais",
    "synthese": "Les familles inscrivent leurs enfants à la cantine et à la garderie et paient en ligne, "
    "depuis un téléphone, sans passer à la mairie.",
    "actions": "Choix d'un portail famille mutualisé, reprise des inscriptions, permanence d'aide à la mairie.",
    "date_debut": "2025-09",
    "services": ["S3"],
    "technologies": ["portail famille", "PayFiP"],
    "liens": ["https://www.arcais.example/portail-famille"],
    "justification": "Projet présenté au conseil municipal de juin 2025.",
}
_CORRECTION = {
    "type": "correction",
    "cible": "vi-1175",
    "champ": "resultats",
    "valeur": "Neuf inscriptions sur dix faites en ligne à la rentrée 2016.",
    "justification": "Chiffre du bilan 2016 du service enfance-famille.",
}


class NouvelleExperience(BaseModel):
    """A new experience, carried by the contributeur's collectivity."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Une nouvelle expérience, portée par la collectivité du contributeur.",
            "examples": [_NOUVELLE],
        }
    )

    type: Literal["experience"] = "experience"
    titre: str = Field(min_length=3, max_length=300, description="Titre de l'expérience.")
    synthese: str = Field(min_length=20, max_length=10_000, description="Ce qui a été fait, en quelques phrases.")
    actions: str | None = Field(default=None, max_length=10_000, description="Les actions menées.")
    resultats: str | None = Field(default=None, max_length=10_000, description="Les résultats obtenus.")
    recommandations: str | None = Field(
        default=None, max_length=10_000, description="Conseils à qui voudrait s'en inspirer."
    )
    date_debut: str | None = Field(default=None, description="Début : AAAA, AAAA-MM ou AAAA-MM-JJ.")
    services: list[str] = Field(default_factory=list, max_length=20, description="Notations ATLAAS (1a1, S12…).")
    technologies: list[str] = Field(default_factory=list, max_length=20, description="Noms des produits utilisés.")
    liens: list[str] = Field(
        default_factory=list, max_length=10, description="Adresses http(s) de pages sur le projet."
    )
    justification: str | None = Field(default=None, max_length=2_000, description="Mot pour la modération.")

    @field_validator("titre", "synthese")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("texte vide")
        return value

    @field_validator("date_debut")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is not None and not _DATE.match(value):
            raise ValueError("date attendue : AAAA, AAAA-MM ou AAAA-MM-JJ")
        return value

    @field_validator("services")
    @classmethod
    def _services(cls, values: list[str]) -> list[str]:
        for v in values:
            if not _NOTATION.match(v):
                raise ValueError(f"notation ATLAAS invalide : {v!r}")
        return values

    @field_validator("technologies")
    @classmethod
    def _technologies(cls, values: list[str]) -> list[str]:
        out = [v.strip() for v in values]
        if any(not v or len(v) > 100 for v in out):
            raise ValueError("nom de technologie vide ou trop long (100 caractères au plus)")
        return out

    @field_validator("liens")
    @classmethod
    def _liens(cls, values: list[str]) -> list[str]:
        for v in values:
            _check_url(v)
        return values


class Correction(BaseModel):
    """A correction or an addition to one field of an existing experience."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Une correction ou un ajout à un champ d'une expérience existante.",
            "examples": [_CORRECTION],
        }
    )

    type: Literal["correction"] = "correction"
    cible: str = Field(
        min_length=1, max_length=300, description="IRI de l'expérience, ou sa clé (vi-1024, oten-OTEN-2009-0098)."
    )
    champ: Literal[
        "titre",
        "sous_titre",
        "synthese",
        "actions",
        "resultats",
        "recommandations",
        "description",
        "date_debut",
        "date_fin",
        "lien",
        "technologie",
        "service",
    ] = Field(description="Le champ corrigé ou complété.")
    valeur: str = Field(min_length=1, max_length=10_000, description="La valeur proposée.")
    justification: str | None = Field(default=None, max_length=2_000, description="Mot pour la modération.")


Proposition = Annotated[NouvelleExperience | Correction, Field(discriminator="type")]


class Contribution(BaseModel):
    """A proposal as its author and the moderators see it."""

    model_config = ConfigDict(
        json_schema_extra={
            "description": "Une proposition telle que son auteur et la modération la voient.",
            "examples": [
                {
                    "id": "3f9c2d1e-8a4b-4c6d-9e0f-1a2b3c4d5e6f",
                    "type": "correction",
                    "statut": "en-attente",
                    "statut_libelle": "en attente",
                    "auteur": "contributrice-pessac",
                    "collectivite": "https://w3id.org/capitalis/id/collectivite/33318",
                    "cible": "https://w3id.org/capitalis/id/experience/vi-1175",
                    "proposition": _CORRECTION,
                    "motif": None,
                    "iri": None,
                    "cree_le": "2026-12-07T09:12:45+00:00",
                    "modere_le": None,
                }
            ],
        }
    )

    id: str
    type: Literal["experience", "correction"]
    statut: Literal["en-attente", "acceptee", "refusee"]
    statut_libelle: str
    auteur: str
    collectivite: str | None
    cible: str | None = Field(description="L'expérience visée (créée, pour une nouvelle expérience acceptée).")
    proposition: dict[str, Any]
    motif: str | None = Field(description="La raison d'un refus.")
    iri: str | None = Field(description="L'IRI de la contribution dans le graphe, une fois acceptée.")
    cree_le: str
    modere_le: str | None


def _check_url(value: str) -> None:
    if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", value) or len(value) > 2_000:
        raise ValueError(f"adresse http(s) invalide : {value!r}")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_SCHEMA = """
CREATE TABLE IF NOT EXISTS contributions (
    id TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL,
    auteur TEXT NOT NULL,
    collectivite TEXT,
    type TEXT NOT NULL,
    cible TEXT,
    proposition TEXT NOT NULL,
    statut TEXT NOT NULL,
    motif TEXT,
    iri TEXT,
    cree_le TEXT NOT NULL,
    modere_le TEXT,
    moderateur INTEGER
);
CREATE INDEX IF NOT EXISTS contributions_user ON contributions(user_id);
CREATE INDEX IF NOT EXISTS contributions_statut ON contributions(statut);
"""


class Contributions:
    """The proposals database (one connection, guarded by a lock)."""

    def __init__(self, path: Path) -> None:
        self._db, self._lock = open_database(path, _SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # reading
    def get(self, contribution_id: str, user: User | None = None) -> Contribution:
        """One proposal; a contributeur sees only its own."""
        with self._lock:
            row = self._db.execute("SELECT * FROM contributions WHERE id = ?", (contribution_id,)).fetchone()
        if row is None or (user is not None and _own_only(user) and row["user_id"] != user.id):
            raise NotFound(f"contribution {contribution_id} inconnue")
        return _contribution(row)

    def list(
        self, user: User, statut: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Contribution], int]:
        """The proposals a user may see (a contributeur: its own; moderators: all), newest first."""
        if statut is not None and statut not in STATUTS:
            raise InvalidInput(f"statut : {statut!r} inconnu (attendu : {', '.join(STATUTS)})", field="statut")
        where, args = [], []
        if _own_only(user):
            where.append("user_id = ?")
            args.append(user.id)
        if statut:
            where.append("statut = ?")
            args.append(statut)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            total = self._db.execute(f"SELECT COUNT(*) FROM contributions {clause}", args).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM contributions {clause} ORDER BY cree_le DESC, id LIMIT ? OFFSET ?",
                [*args, limit, offset],
            ).fetchall()
        return [_contribution(r) for r in rows], int(total)

    # writing
    def propose(
        self, store: Store, user: User, proposal: NouvelleExperience | Correction | dict[str, Any]
    ) -> Contribution:
        """Record a proposal ``en-attente`` after checking it against the graph."""
        user.require("contributeur")
        if isinstance(proposal, dict):
            proposal = _parse(proposal)
        if not user.collectivite:
            raise Forbidden("ce compte n'est rattaché à aucune collectivité : il ne peut pas proposer")
        cible: str | None = None
        if isinstance(proposal, Correction):
            cible = experience_iri(store, proposal.cible)
            _correction_value(store, proposal)  # raises on a value the graph cannot take
        else:
            for notation in proposal.services:
                _concept(store, notation)
        cid = str(uuid.uuid4())
        with self._lock:
            self._db.execute(
                """INSERT INTO contributions
                   (id, user_id, auteur, collectivite, type, cible, proposition, statut, cree_le)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 'en-attente', ?)""",
                (
                    cid,
                    user.id,
                    user.username,
                    user.collectivite,
                    proposal.type,
                    cible,
                    proposal.model_dump_json(exclude_none=True),
                    _now(),
                ),
            )
        return self.get(cid)

    def reject(self, moderator: User, contribution_id: str, motif: str) -> Contribution:
        """Refuse a waiting proposal with a reason its author will read."""
        moderator.require("moderateur")
        motif = (motif or "").strip()
        if not motif:
            raise InvalidInput("motif : obligatoire pour refuser une contribution", field="motif")
        current = self._waiting(contribution_id)
        with self._lock:
            self._db.execute(
                "UPDATE contributions SET statut = 'refusee', motif = ?, modere_le = ?, moderateur = ? WHERE id = ?",
                (motif[:2_000], _now(), moderator.id, current.id),
            )
        return self.get(current.id)

    def accept(self, store: Store, moderator: User, contribution_id: str) -> Contribution:
        """Accept a waiting proposal: its triples enter the ``contributions`` graph with their provenance."""
        moderator.require("moderateur")
        current = self._waiting(contribution_id)
        proposal = _parse(current.proposition)
        node = URIRef(ID[f"contribution/{current.id}"])
        accepted = _now()
        triples, cible = _triples(store, node, current, proposal, accepted)
        store.add(triples, str(graph("contributions")))
        with self._lock:
            self._db.execute(
                """UPDATE contributions SET statut = 'acceptee', iri = ?, cible = ?, modere_le = ?, moderateur = ?
                   WHERE id = ?""",
                (str(node), cible, accepted, moderator.id, current.id),
            )
        return self.get(current.id)

    def _waiting(self, contribution_id: str) -> Contribution:
        current = self.get(contribution_id)
        if current.statut != "en-attente":
            raise InvalidInput(f"contribution {contribution_id} déjà modérée ({STATUTS[current.statut]})")
        return current


def _own_only(user: User) -> bool:
    return user.role == "contributeur"


def _parse(data: dict[str, Any]) -> NouvelleExperience | Correction:
    try:
        return TypeAdapter(Proposition).validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "proposition"
        raise InvalidInput(f"{field} : {first['msg']}", field=field) from None


def _contribution(row: sqlite3.Row) -> Contribution:
    return Contribution(
        id=row["id"],
        type=row["type"],
        statut=row["statut"],
        statut_libelle=STATUTS[row["statut"]],
        auteur=row["auteur"],
        collectivite=row["collectivite"],
        cible=row["cible"],
        proposition=json.loads(row["proposition"]),
        motif=row["motif"],
        iri=row["iri"],
        cree_le=row["cree_le"],
        modere_le=row["modere_le"],
    )


# --- the graph side -----------------------------------------------------------------------------------------


def experience_iri(store: Store, key_or_iri: str) -> str:
    """The IRI of a published experience from its IRI or key; :class:`NotFound` when there is none."""
    try:
        node = experience_from_key(key_or_iri)
    except ValueError:
        raise InvalidInput(
            f"cible : {key_or_iri.strip()!r} n'est ni une IRI d'expérience ni une clé (vi-1024…)", field="cible"
        ) from None
    if not store.ask(f"ASK {{ GRAPH ?g {{ $e a <{CAP.Experience}> }} }}", e=node):
        raise NotFound(f"aucune expérience {node}")
    return str(node)


def _concept(store: Store, notation: str) -> URIRef:
    try:
        node = concept(notation)
    except ValueError as exc:
        raise InvalidInput(f"service : {exc}", field="service") from None
    if not store.ask("ASK { GRAPH ?g { $c a ?k } }", c=node):
        raise InvalidInput(f"service : notation ATLAAS inconnue {notation!r}", field="service")
    return node


def _technology(store: Store, name: str) -> tuple[URIRef, list[Triple]]:
    """The node of a product (a known spelling finds the existing node), with its triples when new."""
    label = technology_aliases().get(technology_key(name)) or name.strip()
    try:
        node = technologie(label)
    except ValueError as exc:
        raise InvalidInput(f"technologie : {exc}", field="technologie") from None
    if store.ask(f"ASK {{ GRAPH ?g {{ $t a <{CAP.Technologie}> }} }}", t=node):
        return node, []
    return node, [
        (node, RDF.type, CAP.Technologie),
        (node, SKOS.prefLabel, RLiteral(label)),
        (node, RDFS.label, RLiteral(label)),
    ]


def _date_literal(value: str) -> RLiteral:
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth}.get(len(value), XSD.date)
    return RLiteral(value, datatype=datatype)


def _correction_value(store: Store, c: Correction) -> tuple[URIRef, Any, list[Triple], bool]:
    """The predicate, the RDF value, extra triples (a new technology) and multi-valuedness of a correction."""
    predicate, kind, multi = CHAMPS[c.champ]
    value = c.valeur.strip()
    if not value:
        raise InvalidInput("valeur : vide", field="valeur")
    extra: list[Triple] = []
    obj: Any
    if kind == "date":
        if not _DATE.match(value):
            raise InvalidInput("valeur : date attendue (AAAA, AAAA-MM ou AAAA-MM-JJ)", field="valeur")
        obj = _date_literal(value)
    elif kind == "url":
        try:
            _check_url(value)
        except ValueError as exc:
            raise InvalidInput(f"valeur : {exc}", field="valeur") from None
        obj = URIRef(value)
    elif kind == "technologie":
        obj, extra = _technology(store, value)
    elif kind == "service":
        obj = _concept(store, value)
    else:
        obj = RLiteral(value, lang="fr")
    return URIRef(predicate), obj, extra, multi


def _triples(
    store: Store, node: URIRef, current: Contribution, proposal: NouvelleExperience | Correction, accepted: str
) -> tuple[list[Triple], str]:
    """The triples an accepted proposal brings into the graph, and the experience it concerns."""
    triples = _contribution_triples(node, current, proposal, accepted)
    if isinstance(proposal, Correction):
        corrected, target = _correction_triples(store, node, proposal)
        return triples + corrected, target
    created, exp = _new_experience_triples(store, node, current, proposal)
    return triples + created, exp


def _contribution_triples(
    node: URIRef, current: Contribution, proposal: NouvelleExperience | Correction, accepted: str
) -> list[Triple]:
    """The contribution itself: a moderated ``prov:Entity`` from a collectivity, listed like a source record."""
    triples: list[Triple] = [
        (node, RDF.type, CAP.Contribution),
        (node, RDF.type, PROV.Entity),
        (node, CAP.statutModeration, RLiteral("acceptee")),
        (node, CAP.source, RLiteral(SOURCE)),
        (node, CAP.identifiantSource, RLiteral(current.id)),
        (node, DCTERMS.type, RLiteral(current.type)),
        (node, DCTERMS.created, RLiteral(current.cree_le, datatype=XSD.dateTime)),
        (node, PROV.generatedAtTime, RLiteral(accepted, datatype=XSD.dateTime)),
    ]
    if current.collectivite:
        triples.append((node, PROV.wasAttributedTo, URIRef(current.collectivite)))
    if proposal.justification:
        triples.append((node, DCTERMS.description, RLiteral(proposal.justification, lang="fr")))
    return triples


def _correction_triples(store: Store, node: URIRef, proposal: Correction) -> tuple[list[Triple], str]:
    """A correction as a reified statement; asserted on the experience too when the field takes several values."""
    target = URIRef(experience_iri(store, proposal.cible))
    predicate, obj, extra, multi = _correction_value(store, proposal)
    triples: list[Triple] = [
        (node, CAP.cible, target),
        (node, RDF.type, RDF.Statement),
        (node, RDF.subject, target),
        (node, RDF.predicate, predicate),
        (node, RDF.object, obj),
        *extra,
    ]
    if multi:
        triples += [(target, predicate, obj), (target, PROV.wasDerivedFrom, node)]
    return triples, str(target)


def _new_experience_triples(
    store: Store, node: URIRef, current: Contribution, proposal: NouvelleExperience
) -> tuple[list[Triple], str]:
    """A new experience, carried by the contributor's collectivity and derived from the contribution."""
    exp = experience(SOURCE, current.id)
    triples: list[Triple] = [
        (node, CAP.cible, exp),
        (exp, RDF.type, CAP.Experience),
        (exp, RDF.type, PROV.Activity),
        (exp, DCTERMS.title, RLiteral(proposal.titre, lang="fr")),
        (exp, CAP.synthese, RLiteral(proposal.synthese, lang="fr")),
        (exp, PROV.wasDerivedFrom, node),
    ]
    if current.collectivite:
        triples.append((exp, CAP.porteur, URIRef(current.collectivite)))
    for name in ("actions", "resultats", "recommandations"):
        text = getattr(proposal, name)
        if text and text.strip():
            triples.append((exp, CAP[name], RLiteral(text.strip(), lang="fr")))
    if proposal.date_debut:
        triples.append((exp, CAP.dateDebut, _date_literal(proposal.date_debut)))
    for notation in proposal.services:
        triples.append((exp, CAP.service, _concept(store, notation)))
    for name in proposal.technologies:
        tnode, extra = _technology(store, name)
        triples += [(exp, CAP.technologie, tnode), *extra]
    for url in proposal.liens:
        triples.append((exp, CAP.lien, URIRef(url)))
    return triples, str(exp)


def contributions_path(home: Path) -> Path:
    return Path(home) / "contributions.sqlite"


def open_contributions(home: Path) -> Contributions:
    """The proposals database of ``home`` (the composition root passes its settings' ``home``)."""
    return Contributions(contributions_path(home))
