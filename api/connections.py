"""uvicorn's HTTP protocol (httptools) with the two limits it lacks: a request's headers must
arrive within `header_timeout` seconds of the connection or of the request's first byte, and in at
most `max_header_bytes` bytes.

Without them a client could hold a connection open for ever by sending half a header line, or make
the server buffer a 32 MB header (httptools has no size limit; h11's limit has no timeout).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.settings import Settings


class BoundedHeaders(HttpToolsProtocol):
    """`qa serve`'s HTTP protocol: uvicorn's, plus a deadline and a size limit for headers."""

    header_timeout = 10.0
    max_header_bytes = 16384

    @classmethod
    def configure(cls, settings: Settings) -> None:
        """Take the limits of this process's server (called before uvicorn accepts connections)."""
        cls.header_timeout = settings.header_timeout
        cls.max_header_bytes = settings.max_header_bytes

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_bytes = 0
        self._headers_pending = True
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._headers_pending:
            self._header_bytes += len(data)
        super().data_received(data)
        if self._headers_pending and self._header_bytes > self.max_header_bytes and not self.transport.is_closing():
            self._refuse(431, "Request Header Fields Too Large", f"over {self.max_header_bytes} bytes of headers")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._headers_pending = True
        self._arm_header_timer()

    def on_headers_complete(self) -> None:
        self._headers_pending = False
        self._header_bytes = 0
        self._cancel_header_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._headers_pending = True  # what comes next is the next request's headers
        self._header_bytes = 0

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if not self._headers_pending or self.transport.is_closing():
            return
        if self._header_bytes:  # half a request: say why it ends; an idle connection just closes
            self._refuse(408, "Request Timeout", f"the headers did not arrive within {self.header_timeout:g} s")
        else:
            self.transport.close()

    def _refuse(self, status: int, phrase: str, why: str) -> None:
        self.logger.warning("Closed a connection from %s: %s.", self.client and self.client[0], why)
        body = f"{status} {phrase}: {why}.\n".encode()
        head = (
            f"HTTP/1.1 {status} {phrase}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()
