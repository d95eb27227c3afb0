"""api.batching: questions asked at once share an encoder call, and each caller gets its own vectors."""

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from api.batching import QuestionBatcher
from tests.fakes import FakeEncoder
from tests.server_fixtures import LOCAL


class GatedEncoder(FakeEncoder):
    """A fake whose first call waits for the test to let it go, so that others queue behind it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail_with: Exception | None = None

    def encode_queries(self, texts):
        self.calls.append(len(texts))
        if len(self.calls) == 1:
            self.started.set()
            assert self.release.wait(10)
        if self.fail_with is not None:
            raise self.fail_with
        return self.encode(texts)


def test_a_lone_question_is_encoded_at_once_alone() -> None:
    encoder = GatedEncoder()
    encoder.release.set()
    batcher = QuestionBatcher(encoder)

    vectors = batcher.encode_queries(["Who defected?"])

    assert encoder.calls == [1]
    np.testing.assert_array_equal(vectors, encoder.encode(["Who defected?"]))


def test_questions_arriving_during_a_call_go_together_into_the_next_one() -> None:
    encoder = GatedEncoder()
    batcher = QuestionBatcher(encoder)
    questions = [f"Question number {n} about ferries?" for n in range(9)]
    with ThreadPoolExecutor(len(questions)) as pool:
        first = pool.submit(batcher.encode_queries, [questions[0]])
        assert encoder.started.wait(10)
        rest = [pool.submit(batcher.encode_queries, [question]) for question in questions[1:]]
        while len(batcher._queue) < len(rest):  # all of them wait behind the first call
            threading.Event().wait(0.01)
        encoder.release.set()
        results = [first.result(10)] + [future.result(10) for future in rest]

    assert encoder.calls == [1, 8]
    for question, vectors in zip(questions, results, strict=True):
        np.testing.assert_array_equal(vectors, encoder.encode([question]))


def test_a_batch_is_at_most_max_batch_and_the_rest_follows() -> None:
    encoder = GatedEncoder()
    batcher = QuestionBatcher(encoder, max_batch=3)
    with ThreadPoolExecutor(8) as pool:
        first = pool.submit(batcher.encode_queries, ["first"])
        assert encoder.started.wait(10)
        rest = [pool.submit(batcher.encode_queries, [f"q{n}", f"r{n}"]) for n in range(7)]
        while len(batcher._queue) < len(rest):
            threading.Event().wait(0.01)
        encoder.release.set()
        results = [future.result(10) for future in rest]
    first.result(10)

    assert encoder.calls == [1, 6, 6, 2]  # requests of two texts, three requests a call
    for n, vectors in enumerate(results):
        np.testing.assert_array_equal(vectors, encoder.encode([f"q{n}", f"r{n}"]))


def test_every_caller_of_a_failed_call_sees_the_error_and_the_next_call_still_runs() -> None:
    encoder = GatedEncoder()
    encoder.fail_with = RuntimeError("the encoder broke")
    batcher = QuestionBatcher(encoder)
    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(batcher.encode_queries, ["first"])
        assert encoder.started.wait(10)
        rest = [pool.submit(batcher.encode_queries, [f"q{n}"]) for n in range(3)]
        while len(batcher._queue) < len(rest):
            threading.Event().wait(0.01)
        encoder.release.set()
        for future in [first, *rest]:
            with pytest.raises(RuntimeError, match="broke"):
                future.result(10)

    encoder.fail_with = None
    np.testing.assert_array_equal(batcher.encode_queries(["again"]), encoder.encode(["again"]))


def test_everything_but_encode_queries_is_the_wrapped_encoder() -> None:
    encoder = FakeEncoder()
    batcher = QuestionBatcher(encoder)

    assert (batcher.name, batcher.dimension) == (encoder.name, encoder.dimension)
    np.testing.assert_array_equal(batcher.encode(["a passage"]), encoder.encode(["a passage"]))


def test_the_served_collection_encodes_through_one_batcher(fake_seeds_index) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.settings import Settings
    from qa.collection import Collection

    collection = Collection.open(fake_seeds_index, encoder=FakeEncoder())
    for _ in range(2):  # an app started twice over one collection wraps its encoder once
        with TestClient(create_app(Settings(index=fake_seeds_index), collection), base_url=LOCAL) as client:
            assert client.post("/ask", json={"question": "Who defected?"}).status_code == 200
    assert isinstance(collection.encoder, QuestionBatcher)
    assert isinstance(collection.encoder.encoder.encoder, FakeEncoder)  # inside api.stopping's StoppableEncoder
