"""API keys for a shared server: made once, shown once, kept only as a SHA-256 hash.

Layout (every file name and SQL statement for keys is here):

    INDEX-server/keys.sqlite    table `keys`: key_id, name, scope, sha256 of the key, created, revoked,
                                filters (JSON; NULL: the whole index)

A key reads `qa_<key_id>_<secret>`; `key_id` finds the row, and the hash of the whole key is
compared in constant time. A `write` key may also read. A read key made with filters sees only the
documents they let through (the server AND-s them with every request's own filters).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from qa.errors import Conflict, InvalidInput, KeyNotFound
from qa.search.filters import Filters
from qa.server.store import ServerStore
from qa.store.manifest import utc_now

Scope = Literal["read", "write"]
SCOPES: tuple[Scope, ...] = ("read", "write")
KEYS_FILE = "keys.sqlite"
PREFIX = "qa_"
_UNKNOWN = hashlib.sha256(b"no such key").hexdigest()  # compared against when no row matches, for even timing

SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    scope TEXT NOT NULL CHECK (scope IN ('read', 'write')),
    sha256 TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked TEXT,
    filters TEXT
)
"""
# Columns added since the first keys.sqlite, added to older files when they are opened.
ADDED_COLUMNS = {"filters": "TEXT"}


@dataclass(frozen=True)
class ApiKey:
    """What is known of a key: never the key itself."""

    key_id: str
    name: str
    scope: Scope
    created: str
    revoked: str | None = None
    filters: Filters | None = None
    """The documents this key may see; None: all of them."""

    def allows(self, scope: Scope) -> bool:
        return self.scope == "write" or scope == "read"

    def as_json(self) -> dict[str, Any]:
        filters = None if self.filters is None else self.filters.model_dump(mode="json", exclude_defaults=True)
        return {
            **{name: getattr(self, name) for name in ("key_id", "name", "scope", "created", "revoked")},
            "filters": filters,
        }


class KeyStore(ServerStore):
    """The keys of one server, in `folder` (the index's `INDEX-server/`)."""

    FILE = KEYS_FILE
    SCHEMA = SCHEMA
    TABLE = "keys"
    ADDED_COLUMNS = ADDED_COLUMNS

    def create(self, scope: str, name: str = "", filters: Filters | None = None) -> tuple[ApiKey, str]:
        """A new key: (its record, the key). The key is not kept; show it to the user once.
        `filters` limit a read key to some documents."""
        if scope not in SCOPES:
            raise InvalidInput(f"Unknown scope {scope!r}; a key is 'read' or 'write'.")
        if filters is not None and filters.is_empty:
            filters = None
        if filters is not None and scope == "write":
            raise InvalidInput(
                "Only a read key can be limited to some documents: a write key may upload and delete any "
                "document. Make it with --scope read, or drop the filter options."
            )
        key_id = secrets.token_hex(4)
        key = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(key_id, name or key_id, scope, _now(), filters=filters)  # type: ignore[arg-type]
        with self._connect(create=True) as db:
            db.execute(
                "INSERT INTO keys (key_id, name, scope, sha256, created, filters) VALUES (?, ?, ?, ?, ?, ?)",
                (record.key_id, record.name, record.scope, _digest(key), record.created, _filters_json(filters)),
            )
        return record, key

    def keys(self) -> list[ApiKey]:
        if not self.path.exists():
            return []
        with self._connect(create=False) as db:
            rows = db.execute(
                "SELECT key_id, name, scope, created, revoked, filters FROM keys ORDER BY created, key_id"
            )
            return [_key(*row) for row in rows]

    def revoke(self, which: str) -> ApiKey:
        """Revoke the key with this key_id or name; a server refuses it from its next request."""
        matches = [key for key in self.keys() if which in (key.key_id, key.name) and key.revoked is None]
        if not matches:
            raise KeyNotFound(f"No active key with id or name {which!r} in {self.path}; `qa keys list` shows them.")
        if len(matches) > 1:
            ids = ", ".join(key.key_id for key in matches)
            raise Conflict(f"{len(matches)} keys are named {which!r} ({ids}); revoke one by its id.")
        with self._connect(create=False) as db:
            db.execute("UPDATE keys SET revoked = ? WHERE key_id = ?", (_now(), matches[0].key_id))
        return next(key for key in self.keys() if key.key_id == matches[0].key_id)

    def active(self, key_id: str) -> ApiKey | None:
        """The active key with this id, or None (unknown or revoked): for links signed for a key."""
        if not self.path.exists():
            return None
        with self._connect(create=False) as db:
            row = db.execute(
                "SELECT key_id, name, scope, created, revoked, filters FROM keys WHERE key_id = ?", (key_id,)
            ).fetchone()
        return None if row is None or row[4] is not None else _key(*row)

    def check(self, key: str) -> ApiKey | None:
        """The active key this is, or None (unknown, malformed or revoked)."""
        key_id = key[len(PREFIX) :].split("_", 1)[0] if key.startswith(PREFIX) else ""
        row = None
        if key_id and self.path.exists():
            with self._connect(create=False) as db:
                row = db.execute(
                    "SELECT key_id, name, scope, created, revoked, filters, sha256 FROM keys WHERE key_id = ?",
                    (key_id,),
                ).fetchone()
        same = hmac.compare_digest(_digest(key), row[6] if row else _UNKNOWN)
        if row is None or not same or row[4] is not None:
            return None
        return _key(*row[:6])


def _key(key_id: str, name: str, scope: Scope, created: str, revoked: str | None, filters: str | None) -> ApiKey:
    return ApiKey(
        key_id, name, scope, created, revoked, None if filters is None else Filters.model_validate_json(filters)
    )


def _filters_json(filters: Filters | None) -> str | None:
    return None if filters is None else filters.model_dump_json(exclude_defaults=True)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _now() -> str:
    return utc_now().isoformat()
