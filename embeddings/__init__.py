"""Text embeddings and the vector index (numpy for small segments, FAISS for large ones). Knows
nothing about questions or documents."""

from embeddings.model import (
    DEFAULT_MODEL,
    EncoderFactory,
    ModelUnavailable,
    SentenceTransformerEncoder,
    load_encoder,
    register_encoder,
    registered_encoder,
    resolve_model,
    unregister_encoder,
)
from embeddings.protocol import Encoder, TokenReader, TokenVectors

__all__ = [
    "DEFAULT_MODEL",
    "Encoder",
    "EncoderFactory",
    "ModelUnavailable",
    "SentenceTransformerEncoder",
    "TokenReader",
    "TokenVectors",
    "load_encoder",
    "register_encoder",
    "registered_encoder",
    "resolve_model",
    "unregister_encoder",
]
