"""Accounts of the API's writers: roles, passwords and bearer tokens, hashed at rest in SQLite.

Roles: ``contributeur`` (attached to one collectivity, proposes experiences and corrections),
``moderateur`` (accepts or rejects them), ``admin`` (everything). Passwords are hashed with Argon2id
(``argon2-cffi``). Bearer tokens — those the OAuth2 password flow issues (they expire after
``api_token_lifetime_min``) and the API keys that ``capitalis users add --api-key`` prints once (they do not
expire) — are 256-bit random secrets stored as their SHA-256: a slow hash adds nothing to a secret that
long, and each request must check one quickly. The database is ``$CAPITALIS_HOME/accounts.sqlite``.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from contributions.database import open_database
from kg.errors import CapitalisError, Forbidden, InvalidInput, NotFound
from ontology.namespaces import ID

Role = Literal["contributeur", "moderateur", "admin"]
ROLES: tuple[str, ...] = ("contributeur", "moderateur", "admin")
TOKEN_PREFIX = "cap_"
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_hasher = PasswordHasher()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    role TEXT NOT NULL,
    collectivite TEXT,
    created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    digest TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tokens_user ON tokens(user_id);
"""


class Unauthorized(CapitalisError):
    """No credentials, or credentials that are wrong, expired or revoked (HTTP 401)."""

    status = 401
    exit_code = 2
    title = "Authentification requise"


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    collectivite: str | None
    created_at: str
    active: bool

    def require(self, *roles: str) -> None:
        """Raise :class:`Forbidden` unless the user has one of ``roles`` (``admin`` has them all)."""
        if self.role != "admin" and self.role not in roles:
            raise Forbidden(f"rôle « {self.role} » insuffisant : il faut être {' ou '.join(roles)}")


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """The account database (thread-safe: one connection guarded by a lock)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db, self._lock = open_database(path, _SCHEMA)
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)  # hashes only, but nobody else needs to read them

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # users
    def add_user(
        self, username: str, role: str, *, password: str | None = None, collectivite: str | None = None
    ) -> User:
        """Create an account; a contributeur must name the collectivity it speaks for (its IRI)."""
        username = username.strip().lower()
        if not _USERNAME.match(username):
            raise InvalidInput(
                "identifiant : 3 à 64 caractères parmi minuscules, chiffres, point, tiret et souligné",
                field="identifiant",
            )
        if role not in ROLES:
            raise InvalidInput(f"rôle : {role!r} inconnu (attendu : {', '.join(ROLES)})", field="role")
        if role == "contributeur" and not collectivite:
            raise InvalidInput("collectivité : obligatoire pour un contributeur", field="collectivite")
        if collectivite is not None and not collectivite.startswith(str(ID)):
            raise InvalidInput(f"collectivité : IRI attendue ({ID}…), reçu {collectivite!r}", field="collectivite")
        if password is not None and len(password) < 10:
            raise InvalidInput("mot de passe : 10 caractères au moins", field="mot_de_passe")
        hashed = _hasher.hash(password) if password else None
        with self._lock:
            try:
                cur = self._db.execute(
                    "INSERT INTO users (username, password_hash, role, collectivite, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (username, hashed, role, collectivite, _now().isoformat(timespec="seconds")),
                )
            except sqlite3.IntegrityError:
                raise InvalidInput(f"identifiant : le compte {username!r} existe déjà", field="identifiant") from None
        return self.get(int(cur.lastrowid or 0))

    def get(self, user_id: int) -> User:
        with self._lock:
            row = self._db.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise NotFound(f"compte {user_id} inconnu")
        return _user(row)

    def by_name(self, username: str) -> User:
        with self._lock:
            row = self._db.execute("SELECT * FROM users WHERE username = ?", (username.strip().lower(),)).fetchone()
        if row is None:
            raise NotFound(f"compte {username!r} inconnu")
        return _user(row)

    def list_users(self) -> list[User]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM users ORDER BY username").fetchall()
        return [_user(r) for r in rows]

    def revoke(self, username: str) -> User:
        """Disable an account and revoke every token it holds."""
        user = self.by_name(username)
        with self._lock:
            self._db.execute("UPDATE users SET active = 0 WHERE id = ?", (user.id,))
            self._db.execute("UPDATE tokens SET revoked = 1 WHERE user_id = ?", (user.id,))
        return self.get(user.id)

    # tokens
    def _issue(self, user: User, kind: str, lifetime: timedelta | None) -> tuple[str, datetime | None]:
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = _now()
        expires = now + lifetime if lifetime is not None else None
        with self._lock:
            self._db.execute(
                "INSERT INTO tokens (user_id, digest, kind, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (
                    user.id,
                    _digest(token),
                    kind,
                    now.isoformat(timespec="seconds"),
                    expires.isoformat(timespec="seconds") if expires else None,
                ),
            )
        return token, expires

    def api_key(self, username: str) -> str:
        """A new API key for an account (printed once; only its hash is kept)."""
        user = self.by_name(username)
        if not user.active:
            raise Forbidden(f"compte {username!r} révoqué")
        return self._issue(user, "api_key", None)[0]

    def login(self, username: str, password: str, lifetime_min: int) -> tuple[str, datetime]:
        """Check a password and issue a bearer token valid ``lifetime_min`` minutes."""
        failure = Unauthorized("identifiant ou mot de passe incorrect")
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM users WHERE username = ?", ((username or "").strip().lower(),)
            ).fetchone()
        if row is None or not row["active"] or not row["password_hash"]:
            _hasher.hash("temps constant")  # the same work whether the account exists or not
            raise failure
        try:
            _hasher.verify(row["password_hash"], password)
        except (VerificationError, InvalidHashError):
            raise failure from None
        token, expires = self._issue(_user(row), "session", timedelta(minutes=lifetime_min))
        assert expires is not None
        return token, expires

    def authenticate(self, token: str) -> User:
        """The account behind a bearer token; :class:`Unauthorized` when unknown, expired or revoked."""
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            raise Unauthorized("jeton invalide")
        with self._lock:
            row = self._db.execute(
                """SELECT u.*, t.expires_at AS t_expires, t.revoked AS t_revoked FROM tokens t
                   JOIN users u ON u.id = t.user_id WHERE t.digest = ?""",
                (_digest(token),),
            ).fetchone()
        if row is None:
            raise Unauthorized("jeton inconnu")
        if row["t_revoked"] or not row["active"]:
            raise Unauthorized("jeton révoqué")
        if row["t_expires"] and datetime.fromisoformat(row["t_expires"]) <= _now():
            raise Unauthorized("jeton expiré : demandez-en un nouveau")
        return _user(row)


def _user(row: sqlite3.Row) -> User:
    return User(
        id=int(row["id"]),
        username=row["username"],
        role=row["role"],
        collectivite=row["collectivite"],
        created_at=row["created_at"],
        active=bool(row["active"]),
    )


def accounts_path(home: Path) -> Path:
    return Path(home) / "accounts.sqlite"


def open_accounts(home: Path) -> Accounts:
    """The account database of ``home`` (the composition root passes its settings' ``home``)."""
    return Accounts(accounts_path(home))
