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
    pause_collector,
    show_answer,
    started,
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
    # Markdown flows a docstring's paragraphs to the terminal's width; typer's "rich" mode keeps
    # the source's line breaks, so 100-column lines came out cut again at 80, ragged.
    rich_markup_mode="markdown",
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
    started()


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
    from qa.limits import validate_question

    with user_errors():
        questions = [validate_question(question)] if question != "-" else None
        filters = make_filters(source, doc_id, kind, since, until, tag)
        collection = open_collection(index, model, one_question=questions is not None)

        def answer(text: str) -> None:
            found = collection.ask(text, top_k=top_k, filters=filters)
            show_answer(collection, found, filters, doc_id, as_json, full)

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
    from qa.cli.console import stdout_console

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
                show_answer(collection, found, filters, doc_id, as_json=False, full=full)
                history.append(line)
            except QAError as error:
                console.print(f"[red]{error}[/]")


PathsOption = Annotated[
    list[str] | None,
    typer.Argument(
        help="Folders (read recursively), files, or web addresses (a page, the site below it, or a "
        "sitemap.xml) to index. None with --compact.",
        show_default=False,
    ),
]
MaxPagesOption = Annotated[int, typer.Option("--max-pages", min=1, help="Web: pages fetched at most from one address.")]
DepthOption = Annotated[
    int | None,
    typer.Option(
        "--depth", min=0, help="Web: links followed from the start page (0: that page only). Default: no limit."
    ),
]
DelayOption = Annotated[
    float,
    typer.Option(
        "--delay", min=0, help="Web: seconds between two requests to the site (a longer robots.txt Crawl-delay wins)."
    ),
]
ConcurrencyOption = Annotated[
    int, typer.Option("--concurrency", min=1, max=32, help="Web: requests in flight at once.")
]
CompactOption = Annotated[
    bool, typer.Option("--compact", help="Merge all segments into one and drop deleted passages for good.")
]
QuantizeOption = Annotated[
    bool | None,
    typer.Option(
        "--quantize/--no-quantize",
        help="int8 model for passages and questions: indexes twice as fast, results slightly different "
        "(SciFact nDCG@10 0.003 lower, SQuAD gold@1 0.002; docs/PERFORMANCE.md). "
        "Default: float32 for a new index, else as it was built.",
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
    max_pages: MaxPagesOption = 1000,
    depth: DepthOption = None,
    delay: DelayOption = 0.25,
    concurrency: ConcurrencyOption = 4,
) -> None:
    """Index documents (text, office, e-books, mail, scans) or web pages; again later, only changes are embedded.

    Reads .txt .text .rst .adoc .asciidoc .md .markdown .html .htm .xhtml .pdf .docx .pptx .xlsx
    .xlsm .csv .tsv .odt .ods .odp .epub .eml .mbox .rtf, LaTeX (.tex .latex), Org mode (.org),
    Jupyter notebooks (.ipynb), GNU Info manuals (.info), manual pages (.1 .2 .3 .4 .5 .6 .7 .8 .9
    .man, .3pm …), DocBook (.xml .dbk .docbook), README, NEWS and the like, any of these compressed
    (.gz .bz2 .xz), and by OCR (Tesseract) .png .jpg .jpeg .tif .tiff and PDF pages without text:
    see docs/FORMATS.md. Other files are skipped, with why (`qa info` lists them).

    Hidden files are left out, and so is what a .qaignore names, in .gitignore's syntax
    (old-edition/, print.html, *.min.html), for the paths below its folder; a document it comes to
    name is removed on the next run. A page's Markdown, reST or DocBook source beside it (readline.md
    by readline.html, a Sphinx build's _sources/) is left out, the page read in its place.
    A file argument adds or updates that file only; documents whose files were deleted are removed
    when their folder is indexed. A web address indexes that page and the pages below it on the
    same host (or the pages a sitemap lists), honouring robots.txt and a page's noindex and
    nofollow; a re-run asks for each page conditionally and removes pages that are gone. A running
    `qa serve` or `qa chat` sees the change at once. A long run commits as it goes: if it is
    stopped, run the same command to go on.
    """
    from qa import config
    from qa.cli.progress import ProgressBars
    from qa.cli.render import print_crawl, print_index_report
    from qa.ingest.indexing import IndexOptions
    from qa.ingest.web.urls import is_url

    with user_errors():
        ray = ray or config.current().ray_address
        if not paths and not compact:
            from qa.store import MANIFEST_FILE

            if index is not None and (Path(index) / MANIFEST_FILE).exists():
                _refresh(index_at(index, model), IndexOptions(quantize=quantize, wait=wait))
                return
            raise InvalidInput(
                "Name the folders, files or web addresses to index (with no paths, --index refreshes the sources "
                "an existing index remembers; --compact merges its segments)."
            )
        urls = [p for p in paths or [] if is_url(p)]
        files = [Path(p) for p in paths or [] if not is_url(p)]
        if urls and ray:
            raise InvalidInput("--ray builds from folders and files; index web addresses without it.")
        collection = index_at(index, model)
        options = IndexOptions(
            rebuild=rebuild,
            quantize=quantize,
            wait=wait,
            flush_passages=flush_passages or None,
            flush_seconds=flush_minutes * 60 or None,
        )
        with ProgressBars() as progress:
            if files and ray:
                from qa.ingest.distributed import add_on_ray

                report = add_on_ray(collection, files, options, ray, ray_actors, progress)
            elif files:
                report = collection.add(files, options, progress)
        if files:
            print_index_report(report)
        if urls:
            from qa.ingest.web.crawler import CrawlSettings

            settings = CrawlSettings(max_pages=max_pages, depth=depth, delay=delay, concurrency=concurrency)
            for number, url in enumerate(urls):
                site_options = IndexOptions(rebuild=rebuild and not files and number == 0, quantize=quantize, wait=wait)
                with ProgressBars() as progress:
                    report, crawl = collection.add_site(url, site_options, settings, progress)
                print_index_report(report)
                print_crawl(crawl, report)
        if compact:
            print_index_report(collection.compact(wait=wait))


def _refresh(collection, options) -> None:
    """Sync every source the index remembers, one after another; a source that fails is named and
    the others still run (exit code 1 when any failed)."""
    from qa.cli.console import stderr_console
    from qa.cli.progress import ProgressBars
    from qa.cli.render import print_crawl, print_index_report

    failed = False
    sources = collection.sources()
    if not sources:
        raise InvalidInput(f"The index at {collection.index_dir} remembers no sources; name folders or addresses.")
    for source in sources:
        typer.echo(f"{source.kind} {source.location}")
        try:
            with ProgressBars() as progress:
                report, crawl = collection.sync(source, options, progress)
        except QAError as error:
            stderr_console().print(f"  {error}", markup=False, highlight=False)
            failed = True
            continue
        print_index_report(report)
        if crawl is not None:
            print_crawl(crawl, report)
    if failed:
        raise typer.Exit(1)


@app.command("watch")
def watch_command(
    folders: Annotated[list[Path], typer.Argument(help="Folders to index and then follow.")],
    index: IndexOption = None,
    model: ModelOption = None,
    wait: WaitOption = DEFAULT_WAIT,
    rescan: Annotated[
        float,
        typer.Option(
            "--rescan",
            min=1,
            metavar="SECONDS",
            help="How often to rescan the folders when the watcher cannot follow them (the inotify "
            "limit, a network filesystem).",
        ),
    ] = 60.0,
    poll: Annotated[
        bool, typer.Option("--poll", help="Only rescan every --rescan seconds; no watcher (network filesystems).")
    ] = False,
) -> None:
    """Index folders, then keep the index in line with them until Ctrl-C.

    Created, changed, deleted, renamed and moved files are indexed as they happen; a burst of
    changes (a save, a git checkout) is one commit, printed as one line. A renamed file keeps its
    passages (no re-embedding). A running `qa serve` or `qa chat` sees each commit at once.
    """
    import time

    from qa.cli.console import stderr_console, stdout_console
    from qa.cli.progress import ProgressBars
    from qa.cli.render import print_index_report
    from qa.ingest.indexing import IndexOptions

    console = stdout_console()
    with user_errors():
        missing = [str(f) for f in folders if not f.expanduser().is_dir()]
        if missing:
            raise InvalidInput(f"Not a folder: {', '.join(missing)}. qa watch follows folders.")
        collection = index_at(index, model)
        options = IndexOptions(wait=wait)

        def committed(commit) -> None:
            console.print(f"{time.strftime('%H:%M:%S')} {commit.line}", markup=False, highlight=False, soft_wrap=True)
            for skipped in commit.report.skipped:
                stderr_console().print(
                    f"  skipped {skipped.path}: {skipped.reason}", markup=False, highlight=False, soft_wrap=True
                )

        def problem(message: str) -> None:
            stderr_console().print(message, markup=False, highlight=False)

        with ProgressBars() as progress:
            report, follower = collection.watch(
                folders, options, progress, poll, on_commit=committed, on_problem=problem, rescan=rescan
            )
        if report is not None:
            print_index_report(report)
        else:
            console.print("Nothing to index yet.", markup=False, highlight=False)
        where = f"rescanning every {rescan:g} s" if poll else "watching"
        console.print(f"{where} {', '.join(map(str, folders))} · Ctrl-C stops", markup=False, highlight=False)
        try:
            follower.rescan_every() if poll else follower.run()
        except KeyboardInterrupt:
            pass
        console.print("stopped", markup=False, highlight=False)


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
    """Show what an index holds: documents, passages, model, dates, site chrome left out, files skipped and why."""
    from qa.cli.render import print_info

    with user_errors():
        collection = open_collection(index, model)
        print_info(
            collection.stats(),
            collection.documents(),
            collection.skipped_files(),
            collection.sources(),
            collection.chrome(),
        )


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
        Path | None,
        typer.Option(
            "--json", help="Also write the metrics (and, for JSONL sets, each question's outcome) to this file as JSON."
        ),
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
    fit_abstention: Annotated[
        bool,
        typer.Option(
            "--fit-abstention",
            help="First fit when the index abstains to these questions (answerable ones and ones its documents "
            "cannot answer), keep it beside the index for every later question, and say what it will do on new "
            "questions (leave-one-out).",
        ),
    ] = False,
    misses: Annotated[
        bool,
        typer.Option(
            "--misses",
            help="Also list the questions whose first passage does not answer them (and the unanswerable ones "
            "answered): where the answer and its page came, which page came first, what its highlight "
            "says, and the question's words no document holds. JSONL sets only.",
        ),
    ] = False,
) -> None:
    """Measure answer quality on an evaluation set: hit@k, gold@k, MRR, nDCG, abstention, latency."""
    from qa.cli.progress import ProgressBars
    from qa.cli.render import print_abstention_fit, print_eval_misses, print_eval_report
    from qa.evaluation import load_eval_set
    from qa.evaluation.runner import asked_elsewhere, run_eval, write_json
    from qa.evaluation.runner import fit_abstention as fit_abstention_to

    with user_errors():
        eval_set = load_eval_set(path)
        other = None
        if against is not None and str(against) == "index":
            eval_set = asked_elsewhere(eval_set)
        elif against is not None:
            other = load_eval_set(against)
        fitted = None
        if fit_abstention:
            if against is not None:
                raise InvalidInput("--fit-abstention fits the index to its own questions; leave out --against")
            with ProgressBars() as progress:
                fitted = fit_abstention_to(eval_set, index, model, fitted_on=path.name, on_progress=progress)
        with ProgressBars() as progress:
            report = run_eval(
                eval_set, index_dir=index, model=model, compare=compare, on_progress=progress, against=other
            )
        print_eval_report(report, eval_set if other is None else asked_elsewhere(eval_set, other))
        if misses:
            print_eval_misses(report)
        if fitted is not None:
            print_abstention_fit(fitted, report.index_dir)
        if json_file is not None:
            write_json(report, json_file)


from qa.cli.admin import feedback_app, keys_app  # noqa: E402

app.add_typer(keys_app, name="keys")
app.add_typer(feedback_app, name="feedback")


def main() -> None:
    pause_collector()
    app()
