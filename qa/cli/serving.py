"""`qa serve`: the HTTP API and the chat widget over an index, with the server's limits as flags
(each also a QA_* variable, read by api/settings.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from qa.cli.options import IndexOption, ModelOption, user_errors

HostOption = Annotated[str | None, typer.Option(help="Address to listen on. (env QA_HOST; default 127.0.0.1)")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on. (env QA_PORT; default 8000)")]

CorsOriginOption = Annotated[
    list[str] | None,
    typer.Option(
        "--cors-origin",
        help="Origin allowed to call the API from a browser (repeatable; '*' for "
        "any). (env QA_CORS_ORIGINS, comma-separated)",
    ),
]
WorkersOption = Annotated[
    int,
    typer.Option(
        "--workers",
        envvar="QA_WORKERS",
        min=1,
        help="Server processes over the one index, each with its own model encoding on its share of the cores; "
        "all follow new generations. As many as cores answers most questions a second under load; one answers a "
        "lone question fastest. See docs/SCALING.md.",
    ),
]
RequireKeyOption = Annotated[
    bool,
    typer.Option(
        "--require-key",
        help="Reads (/ask, /documents, /feedback) need a read key too; writes always need a write key. "
        "(env QA_REQUIRE_KEY)",
    ),
]
NoFeedbackOption = Annotated[
    bool,
    typer.Option(
        "--no-feedback",
        help="Keep no votes: POST /feedback answers 404. (env QA_FEEDBACK=false; default: votes are kept)",
    ),
]
AllowedHostsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allowed-hosts",
        help="Host header values to answer, e.g. qa.example.org (repeatable or comma-separated; '*' for any). "
        "(env QA_ALLOWED_HOSTS; default the --host address and localhost)",
    ),
]
ForwardedAllowIpsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--forwarded-allow-ips",
        help="Addresses of your reverse proxy, whose X-Forwarded-For names the client (repeatable or "
        "comma-separated). (env QA_FORWARDED_ALLOW_IPS; default none: the peer address counts)",
    ),
]
MaxConnectionsOption = Annotated[
    int | None,
    typer.Option(help="Open connections at once; past them requests get 503. (env QA_MAX_CONNECTIONS; default 1000)"),
]
GracefulTimeoutOption = Annotated[
    int | None,
    typer.Option(
        help="Seconds a stopping server lets requests finish; then uploads in flight are rolled back. "
        "(env QA_GRACEFUL_TIMEOUT; default 10)"
    ),
]

WatchOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--watch",
        help="Index this folder and follow its changes, in the server, as the index's one writer (repeatable). "
        "(env QA_WATCH, comma-separated)",
    ),
]
RefreshEveryOption = Annotated[
    str | None,
    typer.Option(
        "--refresh-every",
        metavar="DURATION",
        help="Re-sync the web sources the index remembers this often: 90s, 15m, 1h, 1d. (env QA_REFRESH_EVERY)",
    ),
]


def serve(
    index: IndexOption = None,
    model: ModelOption = None,
    host: HostOption = None,
    port: PortOption = None,
    cors_origin: CorsOriginOption = None,
    workers: WorkersOption = 1,
    require_key: RequireKeyOption = False,
    no_feedback: NoFeedbackOption = False,
    allowed_hosts: AllowedHostsOption = None,
    forwarded_allow_ips: ForwardedAllowIpsOption = None,
    max_connections: MaxConnectionsOption = None,
    graceful_timeout: GracefulTimeoutOption = None,
    watch: WatchOption = None,
    refresh_every: RefreshEveryOption = None,
) -> None:
    """Serve the HTTP API, its docs at /docs, and the chat widget at / and /widget.js."""
    with user_errors():
        from api.server import serve as run_server
        from api.server import serve_workers
        from api.settings import load_settings
        from qa.cli.progress import ProgressBars
        from qa.collection import Collection, ensure_default_index

        settings = load_settings(
            index=index,
            model=model,
            host=host,
            port=port,
            cors_origins=cors_origin,
            require_key=require_key or None,
            feedback=False if no_feedback else None,
            allowed_hosts=allowed_hosts,
            forwarded_allow_ips=forwarded_allow_ips,
            max_connections=max_connections,
            graceful_timeout=graceful_timeout,
            watch=watch,
            refresh_every=refresh_every,
        )
        if workers > 1 and (settings.watch or settings.refresh_every):
            from qa.errors import InvalidInput

            raise InvalidInput(
                "--watch and --refresh-every need one writer: serve with one worker, or run `qa watch` beside "
                "the workers."
            )
        with ProgressBars() as progress:
            if settings.index is not None and settings.watch and not Path(settings.index, "manifest.json").exists():
                Collection(settings.index, model=settings.model).add(
                    settings.watch, on_progress=progress
                )  # a new index
            index_dir = settings.index or ensure_default_index(settings.model, on_progress=progress)
        settings = settings.model_copy(update={"index": index_dir})
        if workers > 1:  # each worker opens the index itself; here it is only checked
            Collection.check(index_dir, settings.model)
            serve_workers(settings, workers)
        else:
            run_server(settings, Collection.open(index_dir, model=settings.model))


def mcp(index: IndexOption = None, model: ModelOption = None) -> None:
    """Serve the index to an AI agent over MCP on stdin/stdout (tools: ask, read_document,
    list_documents). See docs/MCP.md; `qa serve` also serves MCP over HTTP at /mcp."""
    with user_errors():
        from api.mcp_server import serve_stdio
        from qa.cli.options import open_collection

        serve_stdio(open_collection(index, model))
