"""One error hierarchy for every surface (CLI, API, explorer).

Each error carries the place of the fault and an HTTP status, so that one translator per surface
turns it into a red line, a problem+json document or an ``st.error`` — never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class CapitalisError(Exception):
    """Base of every error a user may see; ``status`` is the HTTP status and ``exit_code`` the CLI's."""

    status: int = 500
    exit_code: int = 1
    title: str = "Erreur Capitalis"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CapitalisError):
    status = 404
    exit_code = 1
    title = "Introuvable"


class InvalidInput(CapitalisError):
    """A value a user gave that the domain refuses.

    ``field`` names the domain field at fault (``annee_min``, ``collectivite``, ``service``…), never a surface's
    spelling of it: the CLI maps it to its option (``--annee-min``), the API to its parameter in problem+json.
    The message speaks of the domain ("l'année minimale est après l'année maximale").
    """

    status = 422
    exit_code = 2
    title = "Entrée invalide"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Forbidden(CapitalisError):
    status = 403
    exit_code = 2
    title = "Interdit"


class QueryError(InvalidInput):
    """A SPARQL query that does not parse, runs too long or returns too much."""

    title = "Requête SPARQL refusée"


class QueryTimeout(CapitalisError):
    """A public query that ran past ``sparql_timeout_s``: its worker killed, or the server's request given up."""

    status = 503
    exit_code = 2
    title = "Requête SPARQL trop longue"


class StoreError(CapitalisError):
    """The store cannot be opened (locked by another process, corrupted directory...)."""

    status = 503
    exit_code = 2
    title = "Entrepôt indisponible"


@dataclass(frozen=True)
class Fault:
    """Where a fault sits in a source file: file, sheet or record, row, field."""

    file: str
    row_or_record: str = ""
    field: str = ""
    message: str = ""

    def __str__(self) -> str:
        place = ", ".join(p for p in (self.file, self.row_or_record, self.field) if p)
        return f"{place} : {self.message}"

    def as_dict(self) -> dict[str, str]:
        return {
            "file": self.file,
            "row_or_record": self.row_or_record,
            "field": self.field,
            "message": self.message,
        }


class IngestError(CapitalisError):
    """A file that cannot be read at all (wrong format, not well-formed XML, unknown encoding)."""

    status = 422
    exit_code = 2
    title = "Fichier illisible"

    def __init__(self, file: str, message: str, row_or_record: str = "", field: str = "") -> None:
        self.fault = Fault(file, row_or_record, field, message)
        super().__init__(str(self.fault))
