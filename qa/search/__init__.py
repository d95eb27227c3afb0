"""Search over one snapshot: BM25, hybrid ranking, sentence scores, confidence, highlights, follow-ups and filters."""
