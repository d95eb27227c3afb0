"""The `qa` command: a thin caller of the collection. Heavy libraries load inside commands only."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from qa.errors import QAError

app = typer.Typer(
    help="Ask questions of your documents; answers are passages quoted from them, with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

IndexOption = Annotated[
    Path | None,
    typer.Option("--index", "-i", help="Index folder. Default: an index of seeds/, built on first use."),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        help="Any sentence-transformers name or path. Default: the index's model (all-MiniLM-L6-v2 for new indexes).",
    ),
]
TopKOption = Annotated[int, typer.Option("--top-k", "-k", min=1, max=50, help="How many passages to show.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the answer as JSON (one line per question).")]


@contextmanager
def user_errors():
    """A QAError becomes one line on stderr and exit code 1, never a traceback."""
    try:
        yield
    except QAError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def open_collection(index: Path | None, model: str | None):
    from qa.collection import Collection, ensure_default_index

    index_dir = index if index is not None else ensure_default_index(model, show_progress=True)
    return Collection.open(index_dir, model=model)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help='The question, or "-" to read one question per line from stdin.')],
    index: IndexOption = None,
    model: ModelOption = None,
    top_k: TopKOption = 5,
    as_json: JsonOption = False,
) -> None:
    """Answer a question with the most relevant passages from the indexed documents."""
    from qa.collection import validate_question
    from qa.render import print_answer

    with user_errors():
        questions = [validate_question(question)] if question != "-" else None
        collection = open_collection(index, model)
        if questions is not None:
            print_answer(collection.ask(questions[0], top_k=top_k), as_json)
            return
        failed = False
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                print_answer(collection.ask(line, top_k=top_k), as_json)
            except QAError as error:
                typer.echo(f"Error: {error}", err=True)
                failed = True
        if failed:
            raise typer.Exit(1)


@app.command()
def chat(
    index: IndexOption = None,
    model: ModelOption = None,
    top_k: TopKOption = 3,
) -> None:
    """Ask questions one after another; follow-up questions use the earlier ones. Ctrl-D ends."""
    from qa.render import print_answer, stdout_console

    console = stdout_console()
    interactive = sys.stdin.isatty()
    with user_errors():
        collection = open_collection(index, model)
        if interactive:
            stats = collection.stats()
            console.print(
                f"[bold]Ask about {stats.documents} documents[/] ({stats.passages} passages). "
                "Type /new to start over, Ctrl-D to quit."
            )
        history: list[str] = []
        while True:
            try:
                line = console.input("[bold cyan]? [/]") if interactive else sys.stdin.readline()
            except EOFError:
                break
            if not interactive and not line:
                break
            line = line.strip()
            if not line:
                continue
            if line in {"/new", "/reset"}:
                history.clear()
                continue
            if line in {"/quit", "/exit"}:
                break
            try:
                print_answer(collection.ask(line, top_k=top_k, history=history), as_json=False)
                history.append(line)
            except QAError as error:
                console.print(f"[red]{error}[/]")


@app.command("index")
def index_command(
    paths: Annotated[list[Path], typer.Argument(help="Folders (read recursively) or files to index.")],
    index: IndexOption = None,
    model: ModelOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start the index afresh.")] = False,
    quantize: Annotated[
        bool | None,
        typer.Option(
            "--quantize/--no-quantize",
            help="int8 model for passages and questions: faster indexing, "
            "slightly different results (see docs/PERFORMANCE.md). Default: as the index was built.",
        ),
    ] = None,
) -> None:
    """Index documents (.txt .md .html .pdf .docx); again later, only changed files are embedded."""
    from qa.collection import default_index_dir, index_paths
    from qa.render import print_index_report

    with user_errors():
        index_dir = index if index is not None else default_index_dir(model)
        report = index_paths(paths, index_dir, model=model, rebuild=rebuild, show_progress=True, quantize=quantize)
        print_index_report(report)


@app.command()
def serve(
    index: IndexOption = None,
    model: ModelOption = None,
    host: Annotated[str | None, typer.Option(help="Address to listen on. (env QA_HOST; default 127.0.0.1)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on. (env QA_PORT; default 8000)")] = None,
    cors_origin: Annotated[
        list[str] | None,
        typer.Option(
            "--cors-origin",
            help="Origin allowed to call the API from a browser (repeatable; '*' for "
            "any). (env QA_CORS_ORIGINS, comma-separated)",
        ),
    ] = None,
) -> None:
    """Serve the HTTP API, its docs at /docs, and the chat widget at / and /widget.js."""
    with user_errors():
        from api.server import serve as run_server
        from api.settings import load_settings

        run_server(load_settings(index=index, model=model, host=host, port=port, cors_origins=cors_origin))


@app.command()
def info(index: IndexOption = None, model: ModelOption = None) -> None:
    """Show what an index holds: documents, passages, model, dates."""
    from qa.render import print_info

    with user_errors():
        collection = open_collection(index, model)
        print_info(collection.stats(), collection.documents())


@app.command("eval")
def eval_command(
    path: Annotated[Path, typer.Argument(help="JSONL questions, a SQuAD v1.1 JSON file or a BEIR folder.")],
    index: Annotated[
        Path | None,
        typer.Option(
            "--index",
            "-i",
            help="Index to ask JSONL questions of. Default: the seeds index. "
            "SQuAD and BEIR sets index their own corpus (cached).",
        ),
    ] = None,
    model: ModelOption = None,
    json_file: Annotated[
        Path | None, typer.Option("--json", help="Also write the metrics to this file as JSON.")
    ] = None,
    compare: Annotated[
        bool, typer.Option("--compare", help="Also measure BM25 only and dense only, in the same run.")
    ] = False,
) -> None:
    """Measure answer quality on an evaluation set: hit@k, gold@k, MRR, nDCG, abstention, latency."""
    from qa.evaluation import load_eval_set
    from qa.evaluation.runner import print_report, run_eval, write_json

    with user_errors():
        eval_set = load_eval_set(path)
        report = run_eval(eval_set, index_dir=index, model=model, compare=compare, show_progress=True)
        print_report(report, eval_set)
        if json_file is not None:
            write_json(report, json_file)


def main() -> None:
    app()
