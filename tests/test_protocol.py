"""The Encoder seam: what qa needs of a model, and how a model other than sentence-transformers
is plugged in (the tests' fake goes through the same door)."""

from __future__ import annotations

import numpy as np

import embeddings
from tests.fakes import FAKE_MODEL, FakeEncoder, load_fake


def test_the_fake_is_an_encoder():
    assert isinstance(FakeEncoder(), embeddings.Encoder)


def test_the_sentence_transformers_model_is_an_encoder_without_loading_it():
    encoder = embeddings.SentenceTransformerEncoder()
    assert isinstance(encoder, embeddings.Encoder)
    assert "model" not in vars(encoder), "checking the protocol must not load the model"


def test_something_short_of_an_encoder_is_not_one():
    class NoQueries:
        name, dimension, max_tokens, quantized = "x", 2, 8, False

        def encode(self, texts, on_progress=None):
            return np.zeros((len(texts), 2), dtype=np.float32)

    assert not isinstance(NoQueries(), embeddings.Encoder)


def test_fake_rows_are_normalised_float32():
    vectors = FakeEncoder().encode(["ferry to Rome", "the minister defected"])
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)


def test_a_registered_factory_is_what_load_encoder_returns_by_that_name():
    assert isinstance(embeddings.load_encoder(FAKE_MODEL), FakeEncoder)  # registered for the whole session
    with embeddings.registered_encoder("someone/else", load_fake):
        encoder = embeddings.load_encoder("someone/else", quantized=True)
    assert isinstance(encoder, FakeEncoder) and encoder.name == "someone/else"
    assert isinstance(embeddings.load_encoder("someone/else"), embeddings.SentenceTransformerEncoder)


def test_the_default_model_is_registered_under_its_aliases(fake_model):
    """`fake_model` registers the default name; its short alias and None find the same factory."""
    for name in (None, embeddings.DEFAULT_MODEL, "all-MiniLM-L6-v2"):
        encoder = embeddings.load_encoder(name)
        assert isinstance(encoder, FakeEncoder) and encoder.name == embeddings.DEFAULT_MODEL


def test_unregister_restores_the_sentence_transformers_default():
    embeddings.register_encoder("someone/else", load_fake)
    embeddings.unregister_encoder("someone/else")
    embeddings.unregister_encoder("someone/else")  # twice is harmless
    assert isinstance(embeddings.load_encoder("someone/else"), embeddings.SentenceTransformerEncoder)


def test_a_block_restores_what_was_registered_before_it():
    with embeddings.registered_encoder(FAKE_MODEL, lambda name, quantized: FakeEncoder(name=name, dimension=8)):
        assert embeddings.load_encoder(FAKE_MODEL).dimension == 8
    assert embeddings.load_encoder(FAKE_MODEL).dimension == 64
