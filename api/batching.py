"""Questions that arrive together are encoded together: one encoder call for many requests."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from embeddings import Encoder

# Questions one server process answers at once, each on a worker thread of its own (the rest wait
# their turn on the event loop), and the most one encoder call takes. Under 64 clients, letting all
# of them in (FastAPI's pool has 40 threads) made the calls larger, 24 questions instead of 17, and
# the server's CPU per request 4-8% smaller: the threads mostly wait for their vectors.
QUESTIONS_AT_ONCE = 64
MAX_BATCH = 64


class _Request:
    """One caller's texts, and the event that tells it its vectors are ready or that it leads next."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.wake = threading.Event()
        self.vectors: np.ndarray | None = None
        self.error: BaseException | None = None
        self.done = False


class QuestionBatcher:
    """The collection's encoder, with `encode_queries` shared by the threads that call it at once.

    Nobody waits for company: a question that finds the encoder idle is encoded at once, alone. The
    questions that arrive while a call runs are queued and go together into the next call (up to
    `max_batch`), made by the oldest of them, so under load one ONNX Runtime call serves many
    requests (docs/PERFORMANCE.md). Everything else is the wrapped encoder's.
    """

    def __init__(self, encoder: Encoder, max_batch: int = MAX_BATCH) -> None:
        self.encoder = encoder
        self.max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Request] = []
        self._busy = False

    def __getattr__(self, name: str):
        return getattr(self.encoder, name)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        request = _Request(list(texts))
        with self._lock:
            self._queue.append(request)
            leads = not self._busy
            self._busy = True
        if not leads:
            request.wake.wait()  # our vectors are ready, or it is our turn to encode
        if not request.done:
            self._encode_next_batch()
        if request.error is not None:
            raise request.error
        assert request.vectors is not None
        return request.vectors

    def _encode_next_batch(self) -> None:
        """Encode the oldest queued requests (ours among them), then wake them and the next leader."""
        with self._lock:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
        try:
            vectors = self.encoder.encode_queries([text for request in batch for text in request.texts])
            start = 0
            for request in batch:
                request.vectors = vectors[start : start + len(request.texts)]
                start += len(request.texts)
        except BaseException as error:  # every caller of this batch sees the encoder's error
            for request in batch:
                request.error = error
        finally:
            with self._lock:
                following = self._queue[0] if self._queue else None
                self._busy = following is not None
            for request in batch:
                request.done = True
                request.wake.set()
            if following is not None:
                following.wake.set()
