"""What the commands share: their options as Annotated aliases, filters from the options, one-line
errors, and opening the index to ask or to write."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from qa.errors import QAError
from qa.limits import MAX_TOP_K

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
TopKOption = Annotated[int, typer.Option("--top-k", "-k", min=1, max=MAX_TOP_K, help="How many passages to show.")]
WaitOption = Annotated[
    float,
    typer.Option("--wait", min=0, help="Seconds to wait for another qa process writing the same index."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the answer as JSON (one line per question).")]
FullOption = Annotated[
    bool,
    typer.Option("--full", help="Print whole passages, not the best sentence with one sentence either side."),
]
# Filters: entries of one option are OR-ed, different options AND-ed (qa/search/filters.py).
InOption = Annotated[
    list[str] | None,
    typer.Option(
        "--in",
        help="Only documents under this path (relative to the indexed folder), or matching a glob "
        "such as 'reports/*.pdf'. Repeatable.",
    ),
]
DocOption = Annotated[list[str] | None, typer.Option("--doc", help="Only the document with this doc_id. Repeatable.")]
TypeOption = Annotated[
    list[str] | None, typer.Option("--type", help="Only documents of this file type (pdf, md, txt …). Repeatable.")
]
SinceOption = Annotated[
    str | None, typer.Option("--since", help="Only documents modified on or after this day (YYYY-MM-DD, UTC).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Only documents modified on or before this day (YYYY-MM-DD, UTC).")
]
TagOption = Annotated[
    list[str] | None,
    typer.Option("--tag", help="Only Markdown documents with this tag in their front matter. Repeatable."),
]


def make_filters(source, doc_id, kind, since, until, tag):
    """The options as a filter (None when none is given); a bad one is a one-line error."""
    if not any((source, doc_id, kind, since, until, tag)):
        return None  # without importing the filter's model (pydantic): most questions have none
    from qa.search.filters import Filters

    filters = Filters.parse(source=source, doc_id=doc_id, type=kind, since=since, until=until, tag=tag)
    return None if filters.is_empty else filters


def show_answer(collection, answer, filters, doc_ids, as_json: bool, full: bool) -> None:
    """An answer as `qa ask` and `qa chat` print it: its citations linked to the files, and, where
    `filters` let no document through, that said (qa.cli.render.filter_misses) rather than every
    word of the question named missing."""
    from qa.citations import link_to_files
    from qa.cli.render import filter_misses, print_answer

    answer = link_to_files(answer, collection)
    unmatched = ""
    if filters is not None and not answer.passages and not collection.documents(filters):
        unmatched = filter_misses(collection.documents(), doc_ids or ())
    print_answer(answer, as_json, full=full, filtered=filters is not None, unmatched=unmatched)


@contextmanager
def user_errors():
    """A QAError becomes one line on stderr and exit code 1, never a traceback; Ctrl-C exits 130."""
    try:
        yield
    except QAError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt as interrupt:  # Ctrl-C: a write that was stopped says what it kept
        if str(interrupt):
            typer.echo(f"Stopped: {interrupt}", err=True)
        raise typer.Exit(130) from None


def open_collection(index: Path | None, model: str | None, *, one_question: bool = False):
    """The index to ask, opened; without --index the seeds index, built on first use.
    `one_question`: the process asks one question and exits (`Collection.open`)."""
    from qa.cli.progress import ProgressBars
    from qa.collection import Collection, ensure_default_index

    with ProgressBars() as progress:
        collection = Collection.open(
            index or ensure_default_index(model, on_progress=progress), model=model, one_question=one_question
        )
    started()  # the libraries, the model and the index are loaded
    return collection


# Set by `pause_collector`, which `main` calls; not where the commands are called in-process (tests,
# a program using the CLI app), whose collector is left alone.
COLLECTOR_PAUSED = False


def pause_collector() -> None:
    """Pause the cyclic garbage collector while typer and the command's libraries load; `started`
    freezes what they loaded and turns it on again."""
    global COLLECTOR_PAUSED
    gc.disable()
    COLLECTOR_PAUSED = True


def started() -> None:
    """What the command has loaded so far (libraries, the model, the index) lives until the process
    ends: it is frozen out of the cyclic garbage collector, which would walk it again and again while
    a cold `qa ask` starts and once more at its exit (0.1-0.2 s, docs/PERFORMANCE.md), and the
    collector runs again for what the command makes from here."""
    if COLLECTOR_PAUSED:
        gc.freeze()
        gc.enable()


def index_at(index: Path | None, model: str | None):
    """The collection to write: --index, else the seeds index of the model."""
    from qa.collection import Collection, default_index

    return Collection(index if index is not None else default_index(model), model=model)
