"""A request body's size and pace: refused before it is read into memory or waited on for ever."""

import anyio
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access import BODY_LIMIT


class BodyRefused(HTTPException):
    """An HTTPException, so FastAPI passes it through its body parsing to the error handler."""


class BodyTooLarge(BodyRefused):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=f"The request body is over the limit of {max_bytes} bytes.")


class BodyTooSlow(BodyRefused):
    def __init__(self, detail: str) -> None:
        super().__init__(status_code=408, detail=detail)


class BodyLimits:
    """413 for a body over its limit: by its Content-Length up front, or by counting a streamed
    body. 408 for a body that stalls `idle_seconds` or, once `idle_seconds` have passed since its
    first byte was asked for, averages under `min_rate` bytes a second.

    The limit is `max_bytes` unless `AccessGate` (inside this middleware) allowed this request
    more. A response that starts before the body has arrived (a refusal) closes the connection, so
    the server never keeps reading the rest of a body nobody will use.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, idle_seconds: float = 30.0, min_rate: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.idle_seconds = idle_seconds
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        state = scope.setdefault("state", {})
        received = 0
        ended = not chunked and not (declared.isdigit() and int(declared) > 0)
        first_asked: float | None = None
        started = False

        def limit() -> int:
            return state.get(BODY_LIMIT, self.max_bytes)

        async def limited_receive() -> Message:
            nonlocal received, ended, first_asked
            if ended:  # after the body: waiting for a disconnect is not a slow body
                return await receive()
            max_bytes = limit()
            if declared.isdigit() and int(declared) > max_bytes:
                raise BodyTooLarge(max_bytes)
            now = anyio.current_time()
            first_asked = now if first_asked is None else first_asked
            elapsed = now - first_asked
            if self.min_rate and elapsed > self.idle_seconds and received < self.min_rate * elapsed:
                raise BodyTooSlow(
                    f"The request body came at {received / elapsed:,.0f} bytes/s, under the minimum of "
                    f"{self.min_rate:,} bytes/s."
                )
            with anyio.move_on_after(self.idle_seconds):
                message = await receive()
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
                ended = message["type"] != "http.request" or not message.get("more_body", False)
                return message
            raise BodyTooSlow(f"No byte of the request body arrived for {self.idle_seconds:g} s.")

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if not ended:
                    message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.app(scope, limited_receive, closing_send)
        except BodyRefused as error:
            if started:
                raise
            await JSONResponse({"detail": error.detail}, status_code=error.status_code)(scope, receive, closing_send)
