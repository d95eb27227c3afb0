"""Who may call what: API keys (`Authorization: Bearer KEY`) and per-client rate limits.

The keys themselves live in `qa.server.keys`; this module only turns a request into its key (whose
filters limit what a scoped read key sees) or a 401, 403 or 429 with a one-line `detail`. Keys are
never logged or echoed.

`AccessGate` decides from the request's headers, before a byte of its body is read: a client
without a valid key, or over its rate, is refused while it is still sending, and only a valid
write key earns the large body limit of an upload. The routes keep their own key checks
(`ReadAccess`, `WriteAccess`), which also put the key in the OpenAPI schema; they reuse the gate's
lookup.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from qa.errors import BadLink
from qa.search.filters import Filters
from qa.server.keys import ApiKey
from qa.server.keys import Scope as KeyScope

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="A key from `qa keys create`. Writes need a write key; reads need a read key when the "
    "server runs with --require-key.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
CHALLENGE = {"WWW-Authenticate": "Bearer"}

DOCUMENT = "/documents/{doc_id}"
DOCUMENT_FILE = "/documents/{doc_id}/file"
VIEW = "/view/{doc_id}"
LINKED = (DOCUMENT_FILE, VIEW)  # routes a signed link opens without a key header (qa/server/links.py)
# The key each route needs, by (method, route); writes always need theirs, reads only under
# --require-key. tests/test_access.py checks this table against the routes' own dependencies.
KEYED: dict[tuple[str, str], KeyScope] = {
    ("POST", "/ask"): "read",
    ("POST", "/feedback"): "read",
    ("GET", "/documents"): "read",
    ("GET", DOCUMENT): "read",
    ("GET", DOCUMENT_FILE): "read",
    ("GET", VIEW): "read",
    ("POST", "/documents"): "write",
    ("DELETE", DOCUMENT): "write",
    ("GET", "/metrics"): "read",
    ("POST", "/mcp"): "read",
    ("GET", "/mcp"): "read",
    ("DELETE", "/mcp"): "read",
}
BODY_LIMIT = "qa.body_limit"  # scope["state"] entry: the body limit the gate allows this request
CHECKED_KEY = "qa.checked_key"  # scope["state"] entry: (token, ApiKey or None) the gate looked up


def route_of(path: str) -> str:
    """The route a path is for, as KEYED names it."""
    path = path.rstrip("/") or "/"
    if path.startswith("/view/"):
        return VIEW
    if path.startswith("/documents/"):
        return DOCUMENT_FILE if path.endswith("/file") and path.count("/") == 3 else DOCUMENT
    return path


def needed_scope(method: str, path: str, require_key: bool) -> KeyScope | None:
    """The key scope a request needs, or None when it needs no key."""
    needed = KEYED.get((method, route_of(path)))
    return needed if needed == "write" or (needed and require_key) else None


def refusal(needed: KeyScope, token: str | None, key: ApiKey | None) -> HTTPException | None:
    """The 401 or 403 for a request that needs a `needed` key and sent `token` (`key` its record),
    or None when the key will do."""
    if token is None:
        return HTTPException(
            401, f"This needs a {needed} API key: send Authorization: Bearer KEY (qa keys create).", CHALLENGE
        )
    if key is None:
        return HTTPException(401, "The API key is not valid: unknown, mistyped or revoked.", CHALLENGE)
    if not key.allows(needed):
        return HTTPException(403, f"The key {key.key_id} may only {key.scope}; this needs a {needed} key.")
    return None


def _key_check(needed: KeyScope, always: bool):
    """The check of one scope: the request's valid key, or None for a read without one on a server
    whose reads are open (there a key that fails the check is ignored, as no key would be)."""

    # A coroutine, so a request without a key to check never waits for a worker thread; a key is
    # looked up (SQLite) in one, unless the gate already did.
    async def check(request: Request, credentials: Credentials) -> ApiKey | None:
        token = credentials.credentials if credentials is not None else None
        looked_up = getattr(request.state, CHECKED_KEY, None)
        if token is None:
            key = None
        elif looked_up is not None and looked_up[0] == token:
            key = looked_up[1]
        else:
            key = await run_in_threadpool(request.app.state.keys.check, token)
        if not always and not request.app.state.settings.require_key:
            return key  # a valid key still brings its scope, so a widget sees the same on an open server
        problem = refusal(needed, token, key)
        if problem is not None:
            raise problem
        return key

    return check


ReadAccess = Depends(_key_check("read", always=False))
_read_check = _key_check("read", always=False)


async def _link_check(
    request: Request, credentials: Credentials, doc_id: str, key: str = "", exp: str = "", sig: str = ""
) -> ApiKey | None:
    """A read key from the header, or, without one, the key a signed link stands for (a browser
    opening a citation sends no header); a link whose signature fails is a 401 that says why."""
    if credentials is None and sig:
        state = request.app.state
        try:
            return await run_in_threadpool(state.links.check, doc_id, key, exp, sig, state.keys)
        except BadLink as problem:
            raise HTTPException(401, str(problem), CHALLENGE) from None
    return await _read_check(request, credentials)


LinkAccess = Depends(_link_check)
LinkKey = Annotated[ApiKey | None, LinkAccess]
WriteAccess = Depends(_key_check("write", always=True))
ReadKey = Annotated[ApiKey | None, ReadAccess]


async def request_key(request: Request) -> ApiKey | None:
    """The request's valid key, or None (no key; or, on a server whose reads are open, one that is
    not valid): for routes the gate guards without a FastAPI dependency (`/mcp`)."""
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        return None
    looked_up = getattr(request.state, CHECKED_KEY, None)
    if looked_up is not None and looked_up[0] == token:
        return looked_up[1]
    return await run_in_threadpool(request.app.state.keys.check, token)


def key_filters(key: ApiKey | None) -> Filters | None:
    """The documents a request's key may see; None: all of them (no key, or an unscoped one)."""
    return None if key is None else key.filters


@dataclass(frozen=True)
class RateLimits:
    """Requests per client address on some routes, counted in this process's memory (`limits`)."""

    by_route: dict[tuple[str, str], str]  # (method, route) → a rate like "60/minute"

    def __post_init__(self) -> None:
        from limits import parse_many
        from limits.storage import MemoryStorage
        from limits.strategies import FixedWindowRateLimiter

        object.__setattr__(self, "_items", {route: parse_many(rate) for route, rate in self.by_route.items()})
        object.__setattr__(self, "_window", FixedWindowRateLimiter(MemoryStorage()))

    def hit(self, method: str, route: str, client: str) -> JSONResponse | None:
        """Count one request; a 429 with `Retry-After` (seconds until the window resets) when it is
        over a limit."""
        for item in self._items.get((method, route), []):
            if not self._window.hit(item, client, method, route):
                reset_at, _ = self._window.get_window_stats(item, client, method, route)
                retry_after = max(1, math.ceil(reset_at - time.time()))
                return JSONResponse(
                    {"detail": f"Too many requests: the limit is {item}. Try again in {retry_after} s."},
                    status_code=429,
                    headers={"Retry-After": str(retry_after)},
                )
        return None


class AccessGate:
    """The key and the rate limit of a request, checked from its headers before its body is read.

    A refused request is answered at once (the body limits middleware around it then closes the
    connection, so the rest of the body is never waited for). A request with a valid write key to
    `upload_route` may send up to `upload_bytes`; every other body keeps the small limit.
    """

    def __init__(
        self,
        app: ASGIApp,
        require_key: bool,
        rates: RateLimits,
        upload_bytes: int,
        upload_route: tuple[str, str] = ("POST", "/documents"),
    ) -> None:
        self.app = app
        self.require_key = require_key
        self.rates = rates
        self.upload_bytes = upload_bytes
        self.upload_route = upload_route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, route = scope["method"], route_of(scope["path"])
        state = scope.setdefault("state", {})
        needed = needed_scope(method, scope["path"], self.require_key)
        if needed is not None and route in LINKED and b"sig=" in scope.get("query_string", b""):
            if not Headers(scope=scope).get("authorization"):
                needed = None  # a signed link: the route checks its signature
        if needed is not None:
            token = bearer_token(Headers(scope=scope).get("authorization", ""))
            key = await anyio.to_thread.run_sync(scope["app"].state.keys.check, token) if token else None
            state[CHECKED_KEY] = (token, key)
            problem = refusal(needed, token, key)
            if problem is not None:
                response = JSONResponse({"detail": problem.detail}, problem.status_code, headers=problem.headers)
                await response(scope, receive, send)
                return
            if (method, route) == self.upload_route and key is not None and key.allows("write"):
                state[BODY_LIMIT] = self.upload_bytes
        client = scope["client"][0] if scope.get("client") else "unknown"
        limited = self.rates.hit(method, route, client)
        if limited is not None:
            await limited(scope, receive, send)
            return
        await self.app(scope, receive, send)


def bearer_token(authorization: str) -> str | None:
    """The KEY of `Bearer KEY`, as FastAPI's HTTPBearer reads it."""
    scheme, _, token = authorization.partition(" ")
    return token if scheme.lower() == "bearer" and token else None
