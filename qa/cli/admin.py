"""`qa keys` and `qa feedback`: looking after a shared server's API keys and answer feedback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qa.cli.options import DocOption, InOption, SinceOption, TagOption, TypeOption, UntilOption

keys_app = typer.Typer(help="API keys for `qa serve`: create, list, revoke. Only a hash of each key is kept.")
feedback_app = typer.Typer(help="Answer feedback that `qa serve` received (POST /feedback).")

ServerIndexOption = Annotated[
    Path | None,
    typer.Option("--index", "-i", help="The index the server serves. Default: the seeds index."),
]


def _index_dir(index: Path | None) -> Path:
    from qa.collection import default_index

    return index if index is not None else default_index()


@keys_app.command("create")
def create_key(
    scope: Annotated[
        str, typer.Option("--scope", help="read: ask and read documents; write: also upload and delete.")
    ] = "read",
    name: Annotated[str | None, typer.Option("--name", help="A name to recognise it by. Default: its id.")] = None,
    index: ServerIndexOption = None,
    source: InOption = None,
    doc: DocOption = None,
    kind: TypeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    tag: TagOption = None,
) -> None:
    """Make a key and print it, alone on stdout, this once: it cannot be shown again.

    The filter options of `qa ask` (--in --doc --type --since --until --tag) limit a read key to the
    documents they let through: its questions, document list, documents and votes see no other.
    """
    from qa.cli.options import make_filters, user_errors
    from qa.server.keys import KeyStore

    with user_errors():
        filters = make_filters(source, doc, kind, since, until, tag)
        record, key = KeyStore.for_index(_index_dir(index)).create(scope, name or "", filters)
        typer.echo(key)
        limited = f", limited to {record.filters.as_options()}" if record.filters else ""
        typer.echo(f"Created {record.scope} key {record.key_id} ({record.name}){limited}; keep it now.", err=True)


@keys_app.command("list")
def list_keys(
    index: ServerIndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per key.")] = False,
) -> None:
    """The keys: id, name, scope, when made and revoked, the documents it may see; never the keys."""
    from qa.cli.options import user_errors
    from qa.server.keys import KeyStore

    with user_errors():
        keys = KeyStore.for_index(_index_dir(index)).keys()
        for key in keys:
            if as_json:
                typer.echo(json.dumps(key.as_json(), ensure_ascii=False))
            else:
                state = f"revoked {key.revoked}" if key.revoked else "active"
                limited = f"  only {key.filters.as_options()}" if key.filters else "  all documents"
                typer.echo(f"{key.key_id}  {key.scope:<5}  {key.name}  created {key.created}  {state}{limited}")
        if not keys and not as_json:
            typer.echo("No keys yet: qa keys create --scope read|write", err=True)


@keys_app.command("revoke")
def revoke_key(
    key: Annotated[str, typer.Argument(help="The key's id or name (from qa keys list).")],
    index: ServerIndexOption = None,
) -> None:
    """Revoke a key; a running server refuses it from its next request."""
    from qa.cli.options import user_errors
    from qa.server.keys import KeyStore

    with user_errors():
        revoked = KeyStore.for_index(_index_dir(index)).revoke(key)
        typer.echo(f"Revoked {revoked.scope} key {revoked.key_id} ({revoked.name}).")


@feedback_app.command("export")
def export_feedback(
    json_file: Annotated[Path, typer.Option("--json", help="Write the questions here, as qa eval JSONL.")],
    index: ServerIndexOption = None,
) -> None:
    """Write the votes as `qa eval` questions: passages voted up are the answers, questions with
    only passages voted down are ones the tool should not answer confidently."""
    from qa.cli.options import user_errors
    from qa.server.feedback import FeedbackStore, export_jsonl

    with user_errors():
        store = FeedbackStore.for_index(_index_dir(index))
        count = export_jsonl(store, json_file)
        votes = len(store.votes())
        typer.echo(f"{count} questions from {votes} votes written to {json_file}; run: qa eval {json_file}")
