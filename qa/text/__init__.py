"""Text analysis: normalisation, sentence splitting, the one analyser (terms for BM25), what reads
as prose, and what a question asks for."""
