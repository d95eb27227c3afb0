"""The OpenAPI schema tells the truth for the server's settings: what it allows the server accepts,
and what it forbids the server refuses (the fast half of benchmarks/check_openapi.py, which runs
schemathesis with every check against a real server)."""

import re

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.access import KEYED
from api.app import create_app
from api.openapi import FOLDER_PATTERN
from api.settings import Settings
from qa.errors import UnusableUpload
from qa.ingest.readers import supported_suffixes
from qa.search.filters import MAX_ENTRIES, MAX_ENTRY_CHARS, MAX_WILDCARDS, Filters
from qa.server.uploads import folder_parts
from tests.server_fixtures import LOCAL


def schema_of(require_key: bool) -> dict:
    return create_app(Settings(require_key=require_key)).openapi()


@pytest.mark.parametrize("require_key", [False, True])
def test_read_routes_need_a_key_in_the_schema_only_when_the_server_does(require_key: bool) -> None:
    schema = schema_of(require_key)
    for (method, path), scope in KEYED.items():
        if path == "/mcp":
            continue  # MCP describes itself (tools/list), not in the OpenAPI schema
        operation = schema["paths"][path][method.lower()]
        if scope == "write" or require_key:
            assert operation["security"] == [{"apiKey": []}], (method, path)
            assert {"401", "403"} <= set(operation["responses"]), (method, path)
        else:
            # Optional: a key brings its scope, none is refused; so no 401 or 403 either.
            assert operation["security"] == [{"apiKey": []}, {}], (method, path)
            assert not {"401", "403"} & set(operation["responses"]), (method, path)
    assert schema["paths"]["/health"]["get"]["security"] == [{"apiKey": []}, {}]  # facts with a key, up without


def test_an_open_read_with_a_bad_key_gets_no_status_the_schema_left_out(fake_seeds_index) -> None:
    with TestClient(create_app(Settings(index=fake_seeds_index)), base_url=LOCAL) as client:
        listed = client.get("/documents", headers={"Authorization": "Bearer not-a-key"})
        assert str(listed.status_code) in client.get("/openapi.json").json()["paths"]["/documents"]["get"]["responses"]
        assert listed.status_code == 200


def upload_form(schema: dict) -> tuple[dict, dict]:
    media = schema["paths"]["/documents"]["post"]["requestBody"]["content"]["multipart/form-data"]
    return media, schema["components"]["schemas"][media["schema"]["$ref"].rsplit("/", 1)[1]]


def test_the_upload_form_states_what_the_server_checks_before_reading() -> None:
    media, form = upload_form(schema_of(False))
    files = form["properties"]["files"]
    assert files["minItems"] == 1 and files["items"]["minLength"] == 1
    for suffix in supported_suffixes():
        assert suffix in files["description"]
    # The file name schemathesis (and a reader of the schema) puts on each part is one we read.
    disposition = media["encoding"]["files"]["headers"]["Content-Disposition"]["example"]
    name = re.search(r'filename="([^"]+)"', disposition).group(1)
    assert "." + name.rsplit(".", 1)[1] in supported_suffixes()
    assert "readable document" in schema_of(False)["paths"]["/documents"]["post"]["responses"]["422"]["description"]


@pytest.mark.parametrize(
    "folder",
    ["", "/", "reports", "reports/2011", "/reports/2011/", "été/ü", "a b", "a//b", ".hidden", "a/.b", "..", ".",
     "a\\b", "a\x00b", "tab\there", "a\x85b", "a/./b", "trailing//"],
)  # fmt: skip
def test_the_folder_pattern_accepts_what_the_server_accepts(folder: str) -> None:
    try:
        folder_parts(folder)
        accepted = True
    except UnusableUpload:
        accepted = False
    assert bool(re.search(FOLDER_PATTERN, folder)) == accepted


def entry_schema(key: str) -> tuple[dict, dict]:
    """The schema of one entry of a filter key, and of its list."""
    one, many, _null = Filters.model_json_schema()["properties"][key]["anyOf"]
    return one, many


def schema_allows(entry: dict, value: str) -> bool:
    patterns = [entry["pattern"], *(part["pattern"] for part in entry.get("allOf", []))]
    return entry["minLength"] <= len(value) <= entry["maxLength"] and all(re.search(p, value) for p in patterns)


@pytest.mark.parametrize(
    "value",
    ["budget", "", " ", "\t\n", " x ", "x" * MAX_ENTRY_CHARS, "x" * (MAX_ENTRY_CHARS + 1),
     " " * 100 + "x" * (MAX_ENTRY_CHARS - 50), "*" * MAX_WILDCARDS + "a", "*" * (MAX_WILDCARDS + 1),
     "[a]" * MAX_WILDCARDS, "reports/*/?.md"],
)  # fmt: skip
@pytest.mark.parametrize("key", ["source", "tag", "doc_id", "type"])
def test_a_filter_entry_is_allowed_by_the_schema_exactly_when_the_server_accepts_it(key: str, value: str) -> None:
    one, many = entry_schema(key)
    assert many["items"] == one and many["maxItems"] == MAX_ENTRIES
    try:
        Filters.model_validate({key: [value]})
        accepted = True
    except ValidationError:
        accepted = False
    assert schema_allows(one, value) == accepted


def test_filters_refuse_unknown_keys_and_say_so() -> None:
    assert Filters.model_json_schema()["additionalProperties"] is False
    with pytest.raises(ValidationError):
        Filters.model_validate({"colour": ["red"]})
    # A single entry, or null, is accepted as the schema's anyOf says.
    assert Filters.model_validate({"tag": "budget", "type": None}).tag == ("budget",)


@pytest.mark.parametrize("route", ["/ask", "/feedback"])
def test_a_blank_question_is_outside_the_schema(route: str) -> None:
    schema = schema_of(False)
    body = schema["paths"][route]["post"]["requestBody"]["content"]["application/json"]["schema"]
    model = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    pattern = model["properties"]["question"]["pattern"]
    assert not re.search(pattern, " \t\n") and re.search(pattern, " Who? ")


def test_the_not_blank_pattern_is_str_strip_exactly() -> None:
    """`\\s` differs between regex engines; the pattern names Python's whitespace one by one."""
    import sys

    from qa.search.filters import NOT_BLANK_PATTERN

    pattern = re.compile(NOT_BLANK_PATTERN)
    assert [c for c in range(sys.maxunicode + 1) if (pattern.fullmatch(chr(c)) is None) != chr(c).isspace()] == []
