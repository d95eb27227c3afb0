"""Ingest: documents from a source, read by the reader for their type, cut into passages,
embedded and written to the store."""
