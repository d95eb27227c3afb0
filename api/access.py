"""Who may call what: API keys (`Authorization: Bearer KEY`) and per-client rate limits.

The keys themselves live in `qa.server.keys`; this module only turns a request into its key (whose
filters limit what a scoped read key sees) or a 401, 403 or 429 with a one-line `detail`. Keys are
never logged or echoed.
"""

from __future__ import annotations

import math
import time
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from qa.search.filters import Filters
from qa.server.keys import ApiKey, Scope

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="A key from `qa keys create`. Writes need a write key; reads need a read key when the "
    "server runs with --require-key.",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
CHALLENGE = {"WWW-Authenticate": "Bearer"}


def _key_check(scope: Scope, always: bool):
    """The check of one scope: the request's valid key, or None for a read without one on a server
    whose reads are open (there a key that fails the check is ignored, as no key would be)."""

    # A coroutine, so a request without a key to check never waits for a worker thread; a key is
    # looked up (SQLite) in one.
    async def check(request: Request, credentials: Credentials) -> ApiKey | None:
        if not always and not request.app.state.settings.require_key:
            if credentials is None:
                return None
            # A valid key still brings its scope, so a widget sees the same on an open server.
            return await run_in_threadpool(request.app.state.keys.check, credentials.credentials)
        if credentials is None:
            raise HTTPException(
                401, f"This needs a {scope} API key: send Authorization: Bearer KEY (qa keys create).", CHALLENGE
            )
        key = await run_in_threadpool(request.app.state.keys.check, credentials.credentials)
        if key is None:
            raise HTTPException(401, "The API key is not valid: unknown, mistyped or revoked.", CHALLENGE)
        if not key.allows(scope):
            raise HTTPException(403, f"The key {key.key_id} may only {key.scope}; this needs a {scope} key.")
        return key

    return check


ReadAccess = Depends(_key_check("read", always=False))
WriteAccess = Depends(_key_check("write", always=True))
ReadKey = Annotated[ApiKey | None, ReadAccess]


def key_filters(key: ApiKey | None) -> Filters | None:
    """The documents a request's key may see; None: all of them (no key, or an unscoped one)."""
    return None if key is None else key.filters


def make_limiter():
    """A slowapi limiter keyed by client address, kept in memory (one per server process)."""
    from slowapi import Limiter
    from slowapi.util import get_remote_address

    return Limiter(key_func=get_remote_address, headers_enabled=False)


def no_limit(endpoint):
    return endpoint


async def rate_limited(request: Request, exc) -> JSONResponse:
    """slowapi's RateLimitExceeded as a 429 with `Retry-After` (seconds until the window resets)."""
    retry_after = 1
    current = getattr(request.state, "view_rate_limit", None)
    if current is not None:
        reset_at, _ = request.app.state.limiter.limiter.get_window_stats(current[0], *current[1])
        retry_after = max(1, math.ceil(reset_at - time.time()))
    return JSONResponse(
        {"detail": f"Too many requests: the limit is {exc.detail}. Try again in {retry_after} s."},
        status_code=429,
        headers={"Retry-After": str(retry_after)},
    )
