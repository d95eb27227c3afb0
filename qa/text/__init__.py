"""Text analysis: normalisation, sentence splitting and the one analyser (terms for BM25)."""
