"""The terminal face of `qa`: a thin caller of the core. Heavy libraries load inside commands only.

Only this package prints, and only it may import `api` (for `qa serve`). The core logs; this
package decides where the records go (stderr, one plain line each; `qa serve`: JSON lines).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from qa.cli.options import (
    DocOption,
    FullOption,
    IndexOption,
    InOption,
    JsonOption,
    ModelOption,
    SinceOption,
    TagOption,
    TopKOption,
    TypeOption,
    UntilOption,
    WaitOption,
    index_at,
    make_filters,
    open_collection,
    user_errors,
)
from qa.cli.serving import mcp, serve
from qa.config import DEFAULT_FLUSH_PASSAGES, DEFAULT_FLUSH_SECONDS, DEFAULT_WAIT
from qa.errors import InvalidInput, QAError
from qa.limits import DEFAULT_TOP_K

app = typer.Typer(
    help="Ask questions of your documents; answers are passages quoted from them, with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def common_options(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also log what qa does (INFO) on stderr, not only warnings.")
    ] = False,
) -> None:
    # Options of `qa` itself, before the command: where log records go.
    from qa.cli.logs import configure_logging

    configure_logging(verbose)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help='The question, or "-" to read one question per line from stdin.')],
    index: IndexOption = None,
    model: ModelOption = None,
    top_k: TopKOption = DEFAULT_TOP_K,
    as_json: JsonOption = False,
    full: FullOption = False,
    source: InOption = None,
    doc_id: DocOption = None,
    kind: TypeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    tag: TagOption = None,
) -> None:
    """Answer a question with the most relevant passages from the indexed documents.

    Each passage shows its best sentence with a sentence either side; --full shows it whole.
    --in, --doc, --type, --since, --until and --tag limit the documents searched.
    """
    from qa.citations import link_to_files
    from qa.cli.render import print_answer
    from qa.limits import validate_question

    with user_errors():
        questions = [validate_question(question)] if question != "-" else None
        filters = make_filters(source, doc_id, kind, since, until, tag)
        collection = open_collection(index, model)

        def answer(text: str) -> None:
            found = collection.ask(text, top_k=top_k, filters=filters)
            found = link_to_files(found, collection.file_paths(p.citation.doc_id for p in found.passages))
            print_answer(found, as_json, full=full, filtered=filters is not None)

        if questions is not None:
            answer(questions[0])
            return
        failed = False
        for line in sys.stdin:
            if not line.strip():
                continue
            try:
                answer(line)
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
    full: FullOption = False,
    source: InOption = None,
    doc_id: DocOption = None,
    kind: TypeOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    tag: TagOption = None,
) -> None:
    """Ask questions one after another; follow-up questions use the earlier ones. Ctrl-D ends.

    /full switches between short passages and whole ones; /new starts over. Up arrow recalls
    earlier questions (kept between sessions).
    """
    from qa.citations import link_to_files
    from qa.cli.console import stdout_console
    from qa.cli.render import print_answer

    console = stdout_console()
    interactive = sys.stdin.isatty()
    with user_errors():
        filters = make_filters(source, doc_id, kind, since, until, tag)
        collection = open_collection(index, model)
        if interactive:
            from qa.cli.history import InputHistory

            input_history = InputHistory.start()
            stats = collection.stats()
            console.print(
                f"[bold]Ask about {stats.documents} documents[/] ({stats.passages} passages). "
                "Type /full for whole passages, /new to start over, Ctrl-D to quit."
            )
        history: list[str] = []
        while True:
            try:
                line = input_history.ask() if interactive else sys.stdin.readline()
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
            if line == "/full":
                full = not full
                console.print(f"[dim]Passages are now shown {'whole' if full else 'short'}.[/]")
                continue
            try:
                found = collection.ask(line, top_k=top_k, history=history, filters=filters)
                found = link_to_files(found, collection.file_paths(p.citation.doc_id for p in found.passages))
                print_answer(found, as_json=False, full=full, filtered=filters is not None)
                history.append(line)
            except QAError as error:
                console.print(f"[red]{error}[/]")


PathsOption = Annotated[
    list[Path] | None,
    typer.Argument(help="Folders (read recursively) or files to index. None with --compact."),
]
CompactOption = Annotated[
    bool, typer.Option("--compact", help="Merge all segments into one and drop deleted passages for good.")
]
QuantizeOption = Annotated[
    bool | None,
    typer.Option(
        "--quantize/--no-quantize",
        help="int8 model for passages and questions: faster indexing, "
        "slightly different results (see docs/PERFORMANCE.md). Default: as the index was built.",
    ),
]
RayOption = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="auto|local|ADDRESS",
        help="Read and embed on a Ray cluster: auto (the one `ray start` runs here), local (a one-node "
        "cluster for this run) or the head's HOST:PORT. Needs the ray extra; see docs/SCALING.md. "
        "(env QA_RAY_ADDRESS)",
    ),
]
FlushPassagesOption = Annotated[
    int,
    typer.Option(
        "--flush-passages",
        min=0,
        metavar="N",
        help="Commit what is embedded every N passages, so a crash or Ctrl-C loses at most that much and "
        "the same command goes on from there (0: not by count).",
    ),
]
FlushMinutesOption = Annotated[
    float,
    typer.Option(
        "--flush-minutes",
        min=0,
        metavar="M",
        help="Commit what is embedded at least every M minutes, too (0: not by time).",
    ),
]
RayActorsOption = Annotated[
    int | None,
    typer.Option("--ray-actors", min=1, help="Embedding actors on the cluster. Default: one per CPU."),
]


@app.command("index")
def index_command(
    paths: PathsOption = None,
    index: IndexOption = None,
    model: ModelOption = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Start the index afresh.")] = False,
    compact: CompactOption = False,
    quantize: QuantizeOption = None,
    wait: WaitOption = DEFAULT_WAIT,
    ray: RayOption = None,
    ray_actors: RayActorsOption = None,
    flush_passages: FlushPassagesOption = DEFAULT_FLUSH_PASSAGES,
    flush_minutes: FlushMinutesOption = DEFAULT_FLUSH_SECONDS / 60,
) -> None:
    """Index documents (text, office, e-books, mail, scans); again later, only changed files are embedded.

    Reads .txt .text .rst .md .markdown .html .htm .xhtml .pdf .docx .pptx .xlsx .xlsm .csv .tsv
    .odt .ods .odp .epub .eml .mbox .rtf, and by OCR (Tesseract) .png .jpg .jpeg .tif .tiff and PDF
    pages without text: see docs/FORMATS.md. Other files are skipped, with why (`qa info` lists them).

    A file argument adds or updates that file only; documents whose files were deleted are removed
    when their folder is indexed. A running `qa serve` or `qa chat` sees the change at once.
    A long run commits as it goes: if it is stopped, run the same command to go on.
    """
    from qa import config
    from qa.cli.progress import ProgressBars
    from qa.cli.render import print_index_report
    from qa.ingest.indexing import IndexOptions

    with user_errors():
        ray = ray or config.current().ray_address
        if not paths and not compact:
            raise InvalidInput("Name the folders or files to index (or pass --compact to merge the index's segments).")
        collection = index_at(index, model)
        options = IndexOptions(
            rebuild=rebuild,
            quantize=quantize,
            wait=wait,
            flush_passages=flush_passages or None,
            flush_seconds=flush_minutes * 60 or None,
        )
        with ProgressBars() as progress:
            if paths and ray:
                from qa.ingest.distributed import add_on_ray

                report = add_on_ray(collection, paths, options, ray, ray_actors, progress)
            elif paths:
                report = collection.add(paths, options, progress)
            if compact:
                report = collection.compact(wait=wait)
        print_index_report(report)


@app.command("remove")
def remove_command(
    targets: Annotated[list[str], typer.Argument(help="doc_ids, indexed files, or folders (every document below).")],
    index: IndexOption = None,
    model: ModelOption = None,
    wait: WaitOption = DEFAULT_WAIT,
) -> None:
    """Remove documents from the index (their files are left alone)."""
    from qa.cli.render import print_index_report

    with user_errors():
        print_index_report(index_at(index, model).remove(targets, wait=wait))


app.command()(serve)  # qa/cli/serving.py
app.command()(mcp)


@app.command()
def info(index: IndexOption = None, model: ModelOption = None) -> None:
    """Show what an index holds: documents, passages, model, dates, and the files skipped, with why."""
    from qa.cli.render import print_info

    with user_errors():
        collection = open_collection(index, model)
        print_info(collection.stats(), collection.documents(), collection.skipped_files())


@app.command()
def verify(
    answer_file: Annotated[
        Path, typer.Argument(help="A saved answer: `qa ask --json` output (one answer, or one per line).")
    ],
    index: IndexOption = None,
    model: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a saved answer's quotes against the index as it is now: per passage, verbatim (still
    at its offsets), moved (elsewhere, with the new place) or changed (in no document any more).

    Run `qa index` first so the index holds the files as they are. Exit code 1 when a quote changed.
    """
    from qa.cli.render import print_checks
    from qa.errors import PathNotFound
    from qa.verification import read_answers, verify_answer

    with user_errors():
        if not answer_file.is_file():
            raise PathNotFound(f"No file at {answer_file}.")
        answers = read_answers(answer_file.read_text(encoding="utf-8", errors="replace"))
        collection = open_collection(index, model)
        checks = [verify_answer(collection, answer) for answer in answers]
        print_checks(checks, as_json)
        if not all(check.holds for check in checks):
            raise typer.Exit(1)


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
    against: Annotated[
        Path | None,
        typer.Option(
            "--against",
            help="Ask the questions of this SQuAD file's or BEIR folder's corpus, which cannot answer them, "
            "and count how many are answered anyway (or 'index': of the --index, the seeds by default).",
        ),
    ] = None,
) -> None:
    """Measure answer quality on an evaluation set: hit@k, gold@k, MRR, nDCG, abstention, latency."""
    from qa.cli.progress import ProgressBars
    from qa.cli.render import print_eval_report
    from qa.evaluation import load_eval_set
    from qa.evaluation.runner import asked_elsewhere, run_eval, write_json

    with user_errors():
        eval_set = load_eval_set(path)
        other = None
        if against is not None and str(against) == "index":
            eval_set = asked_elsewhere(eval_set)
        elif against is not None:
            other = load_eval_set(against)
        with ProgressBars() as progress:
            report = run_eval(
                eval_set, index_dir=index, model=model, compare=compare, on_progress=progress, against=other
            )
        print_eval_report(report, eval_set if other is None else asked_elsewhere(eval_set, other))
        if json_file is not None:
            write_json(report, json_file)


from qa.cli.admin import feedback_app, keys_app  # noqa: E402

app.add_typer(keys_app, name="keys")
app.add_typer(feedback_app, name="feedback")


def main() -> None:
    app()
