"""The MCP face: tools for AI agents (`ask`, `read_document`, `list_documents`) over the one
collection, through the official `mcp` SDK — over stdio (`qa mcp`) or streamable HTTP at `/mcp` of
`qa serve`, where the same keys, scopes, body and rate limits as `/ask` apply (api/access.py).

What sets these tools apart is what an agent can check: every passage is quoted verbatim from the
document's stored text at the offsets given, with the sha256 of the file as indexed and the
index generation, so a quote can be verified mechanically (`read_document`, `qa verify`).
"""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

import anyio
import msgspec
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, RootModel, WithJsonSchema

from qa.answers import Answer, AnswerPassage, DocumentInfo, described, record
from qa.collection import Collection
from qa.errors import QAError
from qa.limits import DEFAULT_TOP_K, MAX_QUESTION_CHARS, MAX_TOP_K
from qa.search.filters import DocumentFilter, Filters, all_of

logger = logging.getLogger(__name__)

MAX_READ_CHARS = 20_000  # one read_document call at most
DEFAULT_PAGE, MAX_PAGE = 50, 500  # list_documents
MAX_HISTORY = 20

GUARANTEES = (
    "Every passage is quoted verbatim from the document's stored text: `text` equals "
    "read_document(doc_id, citation.start, citation.end); nothing is generated or paraphrased. "
    "Each passage carries the sha256 of the document's file as indexed and the index `generation` "
    "it was read from, so a quote can be checked later."
)
INSTRUCTIONS = (
    "Extractive question answering over the user's own documents. Answers are passages quoted "
    "verbatim, with citations (document id, character offsets, page, section, a link). "
    + GUARANTEES
    + " `answered: false` means the documents do not answer the question confidently: say so rather "
    "than guess from the closest passages."
)


@record
class EvidencePassage(AnswerPassage):
    """A passage of an answer, with what lets an agent check it mechanically."""

    sha256: str | None = described("The sha256 of the document's file as indexed (the quoted version).")
    generation: int = described("The index generation the passage was read from.")


@record
class Evidence(Answer):
    """The `/ask` answer, each passage with its document's sha256 and the index generation."""

    passages: list[EvidencePassage]  # type: ignore[assignment]

    @classmethod
    def of(cls, answer: Answer) -> "Evidence":
        generation = answer.generation or 0
        passages = [
            EvidencePassage(**vars(p), sha256=p.citation.sha256, generation=generation) for p in answer.passages
        ]
        return cls(**{**vars(answer), "passages": passages})


class EvidenceModel(RootModel[Evidence]):
    """Evidence as the SDK takes a tool's result type: a pydantic model (it holds the dataclass)."""

    model_config = ConfigDict(title="Evidence")


class DocumentSpan(BaseModel):
    """A span of a document's stored text, verbatim: the text citation offsets point into."""

    doc_id: str
    title: str
    source: str
    sha256: str | None = Field(description="The sha256 of the document's file as indexed.")
    generation: int = Field(description="The index generation the text was read from.")
    start: int
    end: int
    length: int = Field(description="The length of the whole stored text, in characters.")
    text: str = Field(description="The stored text from start to end, verbatim.")


class DocumentPage(BaseModel):
    """One page of the indexed documents, in source order."""

    documents: list[DocumentInfo]
    total: int = Field(description="Documents the caller may see, over all pages.")
    offset: int
    next_offset: int | None = Field(description="The offset of the next page, or null on the last one.")


@dataclass(frozen=True)
class Caller:
    """What one tool call works with: the collection, the documents the caller may see, how to
    run a question (on a worker thread), and how its citations link."""

    collection: Collection
    filters: DocumentFilter | None
    run: Callable[..., Awaitable[Any]]
    link: Callable[[Answer], Answer]
    on_answer: Callable[[Answer], None] = lambda answer: None


Reach = Callable[[Context], Awaitable[Caller]]  # how a face turns a tool call into its Caller


def local_reach(collection: Collection) -> Reach:
    """Tools over stdio: the whole index, citations linking to the files on this machine."""
    from qa.citations import link_to_files

    def link(answer: Answer) -> Answer:
        return link_to_files(answer, collection)

    async def reach(context: Context) -> Caller:
        return Caller(collection, None, anyio.to_thread.run_sync, link)

    return reach


FILTERS_SCHEMA = {**Filters.model_json_schema(), "type": ["object", "null"]}


def http_reach() -> Reach:
    """Tools at `/mcp` of `qa serve`: the app's collection and question threads, the documents the
    request's key may see (the access gate has already refused a missing or invalid key where one
    is needed), citations linking to the server's viewer."""
    from api.access import key_filters, request_key
    from api.citations import link_to_viewer

    async def reach(context: Context) -> Caller:
        request = context.request_context.request
        state = request.app.state
        key = await request_key(request)
        base, sign = str(request.base_url), state.links.signer(key)
        return Caller(
            collection=state.collection,
            filters=key_filters(key),
            run=partial(anyio.to_thread.run_sync, limiter=state.question_threads),
            link=lambda answer: link_to_viewer(answer, base, sign),
            on_answer=state.metrics.answer,
        )

    return reach


class MCPEndpoint:
    """`/mcp` of the app: each request handed to the session manager its lifespan started
    (`mcp_sessions`); stateless, JSON responses, so any worker of `qa serve --workers N` can answer."""

    async def __call__(self, scope, receive, send) -> None:
        await scope["app"].state.mcp_sessions.handle_request(scope, receive, send)


def http_sessions(server: MCPServer):
    """A fresh streamable HTTP session manager for one run of the app (the app's own middleware
    checks the Host header, the keys, the body size and the rate)."""
    from mcp.server.transport_security import TransportSecuritySettings

    server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    return server.session_manager


def build_mcp(reach: Reach) -> MCPServer:
    """The MCP server and its three tools; `reach` says what each call may see."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    server = MCPServer(
        "qa", title="qa: quoted answers from your documents", instructions=INSTRUCTIONS, log_level="WARNING"
    )
    root.handlers[:], root.level = handlers, level  # the SDK configures logging; the faces do that here
    read_only = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=False)

    @server.tool(
        description="Answer a question with passages quoted verbatim from the indexed documents, best first. "
        + GUARANTEES
        + " `answered: false` means the documents do not answer the question confidently (the closest "
        "passages are still returned): tell the user so instead of answering from them. Each passage's "
        "`highlight` and `context` are offsets into its `text`; `citation.url` opens the source at the quote.",
        annotations=read_only,
    )
    async def ask(
        question: Annotated[str, Field(description=f"The question (1 to {MAX_QUESTION_CHARS} characters).")],
        context: Context,
        top_k: Annotated[int, Field(description=f"How many passages (1 to {MAX_TOP_K}).")] = DEFAULT_TOP_K,
        filters: Annotated[
            dict[str, Any] | None,
            WithJsonSchema(FILTERS_SCHEMA),
            Field(description="Search only some documents: entries of one key are OR-ed, keys AND-ed."),
        ] = None,
        history: Annotated[
            list[str] | None,
            Field(description="Earlier questions of this conversation, oldest first, for follow-ups."),
        ] = None,
    ) -> Annotated[CallToolResult, EvidenceModel]:
        caller = await reach(context)
        wanted = _parsed_filters(filters)
        history = _checked_history(history)
        question_of = partial(
            caller.collection.ask, question, top_k=top_k, history=history, filters=all_of(caller.filters, wanted)
        )
        answer = caller.link(await _tool_call(caller.run, question_of))
        caller.on_answer(answer)
        evidence = Evidence.of(answer)
        return CallToolResult(
            content=[TextContent(type="text", text=evidence_text(evidence))],
            structured_content=msgspec.to_builtins(evidence),  # the JSON `encoded` writes, as Python values
        )

    @server.tool(
        description="Read a span of a document's stored text, verbatim (the text citation offsets point "
        f"into), at most {MAX_READ_CHARS} characters at once: to read around a quote, or to check one. "
        "Without `end`, reads from `start` to the end of the document or the limit.",
        annotations=read_only,
    )
    async def read_document(
        doc_id: Annotated[str, Field(description="The document's id (citation.doc_id, or from list_documents).")],
        context: Context,
        start: Annotated[int, Field(description="The first character (0-based).")] = 0,
        end: Annotated[int | None, Field(description="The character after the last one.")] = None,
    ) -> DocumentSpan:
        caller = await reach(context)
        document, generation = await _tool_call(
            caller.run, partial(caller.collection.stored_document, doc_id, caller.filters)
        )
        text = document.text or ""
        end = min(len(text), start + MAX_READ_CHARS) if end is None else end
        _check_span(start, end, len(text))
        return DocumentSpan(
            doc_id=document.doc_id,
            title=document.title,
            source=document.source,
            sha256=document.sha256 or None,
            generation=generation,
            start=start,
            end=end,
            length=len(text),
            text=text[start:end],
        )

    @server.tool(
        description="List the indexed documents (doc_id, title, source, type, size in characters, sha256), "
        "a page at a time in source order; pass `next_offset` back as `offset` for the next page.",
        annotations=read_only,
    )
    async def list_documents(
        context: Context,
        offset: Annotated[int, Field(description="Documents to skip.")] = 0,
        limit: Annotated[int, Field(description=f"Documents per page (1 to {MAX_PAGE}).")] = DEFAULT_PAGE,
    ) -> DocumentPage:
        if offset < 0:
            raise ToolError(f"offset must be 0 or more, not {offset}.")
        if not 1 <= limit <= MAX_PAGE:
            raise ToolError(f"limit must be between 1 and {MAX_PAGE}, not {limit}.")
        caller = await reach(context)
        documents = await _tool_call(caller.run, partial(caller.collection.documents, caller.filters))
        page = documents[offset : offset + limit]
        following = offset + limit if offset + limit < len(documents) else None
        return DocumentPage(documents=page, total=len(documents), offset=offset, next_offset=following)

    return server


async def _tool_call(run: Callable[..., Awaitable[Any]], call: Callable[[], Any]) -> Any:
    """`call` on a worker thread; a QAError (the caller's mistake, a missing document, a busy or
    damaged index) becomes a tool error with its message."""
    try:
        return await run(call)
    except QAError as error:
        raise ToolError(str(error)) from error


def _parsed_filters(filters: dict[str, Any] | None) -> Filters | None:
    if filters is None:
        return None
    try:
        return Filters.parse(**filters)
    except QAError as error:
        raise ToolError(str(error)) from error


def _checked_history(history: list[str] | None) -> list[str]:
    history = history or []
    if len(history) > MAX_HISTORY:
        raise ToolError(f"history holds {len(history)} questions; send at most the last {MAX_HISTORY}.")
    for turn in history:
        if len(turn) > MAX_QUESTION_CHARS:
            raise ToolError(f"A question in history is {len(turn)} characters; the limit is {MAX_QUESTION_CHARS}.")
    return history


def _check_span(start: int, end: int, length: int) -> None:
    if start < 0 or end < start or end > length:
        raise ToolError(
            f"The span {start}–{end} is not inside the document, whose text has {length} characters: "
            f"use 0 ≤ start ≤ end ≤ {length}."
        )
    if end - start > MAX_READ_CHARS:
        raise ToolError(
            f"The span {start}–{end} is {end - start} characters; read at most {MAX_READ_CHARS} at once "
            f"(e.g. start={start}, end={start + MAX_READ_CHARS})."
        )


def evidence_text(evidence: Evidence) -> str:
    """A short rendering for clients that read only text: each passage's highlighted sentence with
    its citation."""
    lines = [f"Not in any document: {', '.join(evidence.missing_words)}."] if evidence.missing_words else []
    if not evidence.passages:
        return "\n".join([*lines, "No passage found in the documents searched."])
    lines.append(
        "The documents answer this; best passages first:"
        if evidence.answered
        else "answered: false — no passage answers this confidently; the closest passages are below."
    )
    for passage in evidence.passages:
        citation = passage.citation
        sentence = passage.highlighted
        where = ", ".join(
            part
            for part in (
                citation.source,
                f"page {citation.page}" if citation.page else "",
                " › ".join(citation.section),
                f"chars {citation.start}–{citation.end}",
            )
            if part
        )
        lines.append(f"{passage.rank}. “{sentence}” — {citation.title} ({where}) [doc_id {citation.doc_id}]")
        if citation.url:
            lines.append(f"   {citation.url}")
        for also in passage.also:  # the same words at another place
            lines.append(f"   Also in: {also.source}, chars {also.start}–{also.end} [doc_id {also.doc_id}]")
    return "\n".join(lines)


def serve_stdio(collection: Collection) -> None:
    """`qa mcp`: the tools over stdin/stdout until the client closes them."""
    anyio.run(build_mcp(local_reach(collection)).run_stdio_async)
