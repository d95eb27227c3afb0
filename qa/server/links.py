"""Signed citation links: a viewer or file link a browser can open without a key header.

A browser opening a citation in a new tab sends no `Authorization` header, so on a server whose
reads need a key, the link itself carries the proof: the id of the key that asked, an expiry, and
an HMAC of both with the document id, made with a secret kept beside the index:

    INDEX-server/link-secret    32 random bytes, hex; 0o600, made once (by whichever worker is first)

The link grants no more than its key: the key must still be active when the link is opened, and
its scope still decides which documents it may see. On a server whose reads are open, links need
no signature and carry none.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.config import server_data_dir
from qa.errors import BadLink
from qa.server.keys import ApiKey, KeyStore

SECRET_FILE = "link-secret"
LINK_SECONDS = 7 * 24 * 3600  # how long a signed link opens its document


@dataclass(frozen=True)
class LinkSigner:
    """Signs and checks citation links for one index's server; `required` False: links are open."""

    folder: Path
    required: bool

    @classmethod
    def for_index(cls, index_dir: Path, required: bool) -> LinkSigner:
        return cls(server_data_dir(index_dir), required)

    def signer(self, key: ApiKey | None) -> Callable[[str], dict[str, str]] | None:
        """What to add to the links of an answer asked with `key`, or None where links need nothing."""
        if not self.required or key is None:
            return None
        secret = self._secret()

        def sign(doc_id: str) -> dict[str, str]:
            expires = str(int(time.time()) + LINK_SECONDS)
            return {"key": key.key_id, "exp": expires, "sig": _signature(secret, doc_id, key.key_id, expires)}

        return sign

    def check(self, doc_id: str, key_id: str, expires: str, signature: str, keys: KeyStore) -> ApiKey:
        """The key a signed link of `doc_id` stands for; BadLink if it does not hold."""
        expected = _signature(self._secret(), doc_id, key_id, expires)
        if not hmac.compare_digest(expected, signature):
            raise BadLink("The link's signature does not match: copy the whole link, or ask again.")
        if not expires.isdigit() or int(expires) < time.time():
            raise BadLink("The link has expired: ask the question again for a fresh one.")
        key = keys.active(key_id)
        if key is None or not key.allows("read"):
            raise BadLink("The key this link was made for is no longer active.")
        return key

    def _secret(self) -> bytes:
        path = self.folder / SECRET_FILE
        if not path.exists():
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            draft = self.folder / f".{SECRET_FILE}.{os.getpid()}"
            descriptor = os.open(draft, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
            try:
                os.link(draft, path)  # the first worker's secret wins; the others read it
            except FileExistsError:
                pass
            finally:
                draft.unlink()
        return bytes.fromhex(path.read_text().strip())


def _signature(secret: bytes, doc_id: str, key_id: str, expires: str) -> str:
    message = "\n".join([doc_id, key_id, expires]).encode("utf-8", "surrogatepass")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()
