"""Schemathesis hooks for benchmarks/check_openapi.py (loaded with SCHEMATHESIS_HOOKS): two kinds of
generated case that say nothing about the server, dropped. Nothing else is filtered or changed.

- A positive /ask case with `filters.since` after `filters.until`. The server refuses it with a
  422 that says no document could match (a user's mistake gets a clear 4xx); JSON Schema cannot
  compare two fields, so the schema cannot rule it out.
- A negative upload case whose violation is a JSON type (`files` items or `folder` made an integer,
  null, an object…). A multipart part is bytes: the integer 7512 arrives as the text "7512", which
  is a readable document or a valid folder name, so the server rightly accepts it.
"""

from __future__ import annotations

import schemathesis


@schemathesis.hook
def filter_case(context, case) -> bool:
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    if case.operation.label == "POST /documents" and negative:
        description = getattr(case.meta.phase.data, "description", None) or ""
        return "violates `type`" not in description
    if case.operation.label != "POST /ask" or not isinstance(case.body, dict) or negative:
        return True
    filters = case.body.get("filters")
    if not isinstance(filters, dict):
        return True
    since, until = filters.get("since"), filters.get("until")
    return not (isinstance(since, str) and isinstance(until, str) and since > until)
