"""Text embeddings and the FAISS vector index. Knows nothing about questions or documents."""

from embeddings.model import DEFAULT_MODEL, Encoder, load_encoder, resolve_model

__all__ = ["DEFAULT_MODEL", "Encoder", "load_encoder", "resolve_model"]
