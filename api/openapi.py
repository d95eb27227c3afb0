"""The OpenAPI schema as this server's settings make it, so that what it promises is what the server
does (checked with every schemathesis check by benchmarks/check_openapi.py).

FastAPI writes the schema from the routes, which are the same on every server; two things depend on
the settings or lie beyond what the models say:

- the key on read routes: required under --require-key, optional otherwise (a valid key still
  brings its scope; a missing or unknown one is never refused, so no 401 or 403 is listed);
- the upload's form: at least one file, none empty, named as the example shows (OpenAPI cannot
  constrain a part's file name, so the supported suffixes are in the text), and a `folder` pattern
  with the rules of `qa.server.uploads.folder_parts` that a pattern can state. Whether bytes are a
  readable document cannot be stated at all: that 422 is described here and in docs/SHARED_SERVER.md.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from api.access import KEYED
from api.settings import Settings
from qa.ingest.readers import supported_types

# A folder: parts separated by single slashes (leading and trailing ones ignored), none empty or
# starting with '.', no backslash or control character. (Unicode format characters and parts over
# 255 bytes are refused too; a pattern cannot count bytes, and those 422s are described.)
PART = r"[^./\\\x00-\x1f\x7f-\x9f][^/\\\x00-\x1f\x7f-\x9f]*"
FOLDER_PATTERN = rf"^/*(?:{PART}(?:/{PART})*/*)?$"


def use_settings_in_schema(app: FastAPI, settings: Settings) -> None:
    """Make `app.openapi()` return the schema adjusted for `settings` (built once, then cached)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(generate(), settings)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(schema: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """`schema` (FastAPI's) with the key requirement and the upload form of this server."""
    for (method, path), scope in KEYED.items():
        operation = schema["paths"].get(path, {}).get(method.lower())
        if operation is None or scope != "read" or settings.require_key:
            continue
        operation["security"] = [{"apiKey": []}, {}]  # a key is optional; without one, all documents
        for status in ("401", "403"):
            operation["responses"].pop(status, None)
    health = schema["paths"].get("/health", {}).get("get")
    if health is not None:  # open to all; a key that may read only adds the index's facts
        health["security"] = [{"apiKey": []}, {}]
    upload = schema["paths"]["/documents"]["post"]
    media = upload["requestBody"]["content"]["multipart/form-data"]
    form = schema["components"]["schemas"][media["schema"]["$ref"].rsplit("/", 1)[1]]
    files = form["properties"]["files"]
    files["minItems"] = 1
    files["items"]["minLength"] = 1
    files["description"] = (
        f"The documents, repeatable, each with a file name ending in one of {supported_types()}. At most "
        f"{settings.max_upload_files} files, {settings.max_upload_file_bytes:,} bytes each (413 past them)."
    )
    media["encoding"] = {
        "files": {
            "headers": {
                "Content-Disposition": {
                    "description": "Each part's file name is the document's name; its suffix picks the reader.",
                    "schema": {"type": "string"},
                    "example": 'form-data; name="files"; filename="notes.txt"',
                }
            }
        }
    }
    for option in form["properties"]["folder"].get("anyOf", []):
        if option.get("type") == "string":
            option["pattern"] = FOLDER_PATTERN
    upload["responses"]["422"]["description"] = (
        "The upload cannot be stored or read, and nothing was saved: a file that is not a readable "
        "document (binary data, an unknown encoding, or no text), empty, or of an unsupported type; "
        "two files of one name; a name or folder the documents folder cannot hold (a Unicode format "
        "character, a part over 255 bytes, a path over the OS's limit, a file where a folder must "
        "be). `detail` names each file and why."
    )
    return schema
