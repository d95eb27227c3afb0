"""How answers and reports look on a terminal (rich) or as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from textwrap import shorten
from typing import TYPE_CHECKING

from qa.answers import Answer, AnswerPassage, DocumentInfo, IndexStats, encoded
from qa.cli.console import stderr_console, stdout_console

if TYPE_CHECKING:
    from qa.ingest.documents import Skipped

NOT_CONFIDENT = "No passage answers this confidently. The closest passages are below."
NOT_IN_ANY_DOCUMENT = "Not in any document:"
NOT_IN_DOCUMENTS_SEARCHED = "Not in the documents searched:"  # the filters narrowed them
ALSO_IN = "Also in:"  # the same words at another place (a copied page, a man page and its web page)
NOTHING_MATCHES = "No passage found in the documents the filters allow."
NO_DOCUMENT_MATCHES = "No document matches the filters."
CUT = "…"
SECTION_SEPARATOR = " › "
CHROME_NAMED = 3  # blocks of site chrome `qa info` names for each folder or site


def passage_body(passage: AnswerPassage, full: bool = False):
    """The passage as rich Text, its best sentence highlighted: the short form (the context
    span, "…" where the passage goes on) unless `full`."""
    from rich.text import Text

    start, end = (0, len(passage.text)) if full else (passage.context.start, passage.context.end)
    lead = CUT + " " if start > 0 else ""
    body = Text(lead + passage.text[start:end] + (" " + CUT if end < len(passage.text) else ""))
    shift = len(lead) - start
    highlight_start = max(passage.highlight.start, start) + shift
    highlight_end = min(passage.highlight.end, end) + shift
    body.stylize("bold yellow", highlight_start, highlight_end)
    if lead:
        body.stylize("dim", 0, len(CUT))
    if end < len(passage.text):
        body.stylize("dim", len(body) - len(CUT), len(body))
    return body


def section_line(section: list[str]) -> str:
    """A section path as one line, outermost heading first."""
    return SECTION_SEPARATOR.join(section)


def print_answer(
    answer: Answer, as_json: bool, full: bool = False, filtered: bool = False, unmatched: str = ""
) -> None:
    """One answer: JSON (always whole), or panels with each passage's short form (`full`: whole).
    `filtered`: filters narrowed the documents searched; `unmatched`, what to say when they let no
    document through (`filter_misses`)."""
    if as_json:
        print(encoded(answer).decode(), flush=True)
        return
    from rich.panel import Panel
    from rich.style import Style
    from rich.text import Text

    console = stdout_console()
    if answer.missing_words:  # a typo, or what the documents never mention: worth knowing before reading on
        label = NOT_IN_DOCUMENTS_SEARCHED if filtered else NOT_IN_ANY_DOCUMENT
        console.print(Text.assemble((label, "yellow"), " ", ", ".join(answer.missing_words)))
    if not answer.passages:
        console.print(Text(unmatched or (NOTHING_MATCHES if filtered else "No passage found."), style="yellow"))
        return
    if not answer.answered:
        console.print(f"[yellow]{NOT_CONFIDENT}[/]")
    for passage in answer.passages:
        body = passage_body(passage, full)
        citation = passage.citation
        if citation.section:  # where in the document, above the quote: "Handbook › Travel › Expenses"
            body = Text.assemble((section_line(citation.section), "cyan"), "\n", body)
        where = _where(citation)
        # The title links to the source at the quote (file:// at #page=N, or the web page): an OSC 8
        # hyperlink where the terminal shows them (rich writes none when output is not a terminal).
        title = Text.assemble(
            (f"{passage.rank}. ", "bold"),
            (citation.title, Style(bold=True, link=citation.url) if citation.url else "bold"),
        )
        console.print(
            Panel(
                body,
                title=title,
                title_align="left",
                subtitle=f"{Text(citation.source).markup} · {where} · score {passage.score:.2f}",
                subtitle_align="right",
                border_style="green" if answer.answered else "yellow",
            )
        )
        if citation.url:  # a web page: opens scrolled to the quote, highlighted
            console.print(Text(f"  ↗ {citation.url}", style=f"dim link {citation.url}"), soft_wrap=True)
        for also in passage.also:  # cited, not quoted again
            place = Text(f"{also.source} · {_where(also)}", style=Style(link=also.url) if also.url else "")
            console.print(Text.assemble((f"  {ALSO_IN} ", "dim"), place), soft_wrap=True)


def filter_misses(documents: Sequence[DocumentInfo], doc_ids: Sequence[str]) -> str:
    """What to say when filters let none of `documents` through: that none matches, and for each
    `--doc` that is no doc_id, the doc_id of the file it names, if one does (a file name is what a
    user has at hand; doc_ids are what `qa info` lists)."""
    known = {document.doc_id for document in documents}
    hints = []
    for entry in doc_ids:
        if entry in known:
            continue
        meant = [d.doc_id for d in documents if entry in (d.source, Path(d.source).name)]
        hints.append(
            f"{entry} is the file of doc_id {meant[0]}: --doc {meant[0]}, or --in {entry}."
            if meant
            else f"No document has doc_id {entry} (qa info lists them)."
        )
    return " ".join([NO_DOCUMENT_MATCHES, *hints])


def _where(citation) -> str:
    """Where in its document a citation points: characters, and the page of a PDF."""
    return f"chars {citation.start}–{citation.end}" + (f", page {citation.page}" if citation.page else "")


def print_index_report(report) -> None:
    console = stdout_console()
    console.print(report.summary, markup=False, highlight=False)
    if report.removed_sources:
        console.print(f"removed: {report.removed_names}", markup=False, highlight=False)
    kind = f" in {report.vectors}" if report.vectors != "float32" else ""
    passages = f"{report.passages} passage{'s' if report.passages != 1 else ''}"
    console.print(
        f"{passages} embedded{kind} · index at {report.index_dir} · "
        f"generation {report.generation}, {report.segments} segment{'s' if report.segments != 1 else ''}",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if report.skipped:
        print_skipped(report.skipped)


def print_skipped(skipped: Sequence[Skipped]) -> None:
    from qa.ingest.documents import skipped_lines

    errors = stderr_console()
    errors.print(f"Skipped {len(skipped)} file(s):")
    for line in skipped_lines(skipped, "; `qa info` lists each"):
        # soft_wrap: a long path stays one line, whole when copied, in a log or a pipe too
        errors.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)


def print_crawl(crawl, report) -> None:
    """What a crawl fetched, how fast, and what it kept or could not use (with why)."""
    console = stdout_console()
    reached = len(crawl.pages)
    rate = reached / crawl.seconds if crawl.seconds else 0.0
    console.print(
        f"{reached} pages reached in {crawl.seconds:.1f} s ({rate:.1f} pages/s): {crawl.downloaded} downloaded, "
        f"{crawl.not_modified} not modified · {crawl.requests} requests",
        markup=False,
        highlight=False,
    )
    if report.kept:
        console.print(f"Kept {len(report.kept)} page(s) as indexed, not reached now:", markup=False, highlight=False)
        for kept in report.kept:
            console.print(f"  {kept.path}: {kept.reason}", markup=False, highlight=False)


def print_info(
    stats: IndexStats, documents: list[DocumentInfo], skipped: Sequence = (), sources=(), chrome=None
) -> None:
    """The index's facts as label/value lines (with the site chrome left out of passages, a few
    blocks of it named), then its documents: columns fold or shorten to fit the terminal (readable
    at 80 columns), ids and paths fold rather than vanish; then the files indexing passed over,
    each with why."""
    from rich import box
    from rich.table import Table

    console = stdout_console()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
    segments = f"{stats.segments} segment{'s' if stats.segments != 1 else ''}"
    facts.add_row("index", stats.path)
    facts.add_row("holds", f"{stats.documents} documents, {stats.passages} passages")
    kind = "int8" if stats.quantized else stats.passage_precision  # of the passages; questions are float32 unless int8
    facts.add_row("model", f"{stats.model} ({stats.dimension}-d, {kind})")
    facts.add_row("updated", f"{stats.updated:%Y-%m-%d %H:%M} UTC, generation {stats.generation} in {segments}")
    from qa.search.confidence import READING

    fitted = (
        f"fitted on {stats.abstention_fitted_on}"
        if stats.abstention_fitted_on
        else f"the default; {READING.threshold:.3f} where the question is read against its first passage"
    )
    facts.add_row(
        "abstains",
        f"below a confidence of {stats.abstention_threshold:.3f}"
        f"{rule_phrase(stats.abstention_min_known, stats.abstention_on_names)} ({fitted})",
    )
    for number, source in enumerate(sources):
        synced = f"last sync {source.last_sync:%Y-%m-%d %H:%M} UTC" if source.last_sync else "not synced yet"
        facts.add_row("sources" if number == 0 else "", f"{source.kind} {source.location} · {synced}")
    for number, (root, blocks) in enumerate((chrome or {}).items()):
        named = ", ".join(f"“{shorten(block, 40, placeholder=CUT)}”" for block in blocks[:CHROME_NAMED])
        more = f" and {len(blocks) - CHROME_NAMED} more" if len(blocks) > CHROME_NAMED else ""
        facts.add_row(
            "chrome" if number == 0 else "",
            f"{root}: {len(blocks)} repeated block{'s' if len(blocks) != 1 else ''} in no passage: {named}{more}",
        )
    console.print(facts)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("doc_id", overflow="fold", min_width=12)
    table.add_column("title", overflow="fold", min_width=16)
    table.add_column("source", overflow="fold", min_width=12)
    table.add_column("passages", justify="right", no_wrap=True)
    for document in documents:
        table.add_row(document.doc_id, document.title, document.source, str(document.passages))
    console.print(table)
    if skipped:
        console.print(f"[bold]skipped[/bold] {len(skipped)} file{'s' if len(skipped) != 1 else ''}:")
        for entry in skipped:
            console.print(f"  {entry.path}: {entry.reason}", markup=False, highlight=False, soft_wrap=True)


def rule_phrase(min_known: float, on_names: bool = False) -> str:
    """What a fit's other rules (a floor on known words, abstaining on names no document holds) add
    to "abstains below a confidence of …"."""
    phrase = ""
    if min_known:
        phrase += f", or when under {min_known:.0%} of a question (its words weighted by rarity) is in the index"
    if on_names:
        phrase += ", or when a question names what no document holds"
    return phrase


def print_abstention_fit(report, index_dir) -> None:
    """What `qa eval --fit-abstention` kept, and what to expect of it on new questions."""
    from qa.search.abstention import FILE

    def share(counts: tuple[int, int]) -> str:
        return f"{counts[0]}/{counts[1]}"

    fitted = report.abstention
    if report.keeps_default:
        answerable, unanswerable = report.answerable_abstained[1], report.unanswerable_abstained[1]
        head = (
            f"Keeps the default threshold: on {fitted.fitted_on} ({answerable} answerable questions, "
            f"{unanswerable} not) no threshold fitted to the index abstains on more unanswerable questions, "
            f"or on as many with fewer answerable ones (the default also reads a question against its first "
            f"passage where the verdict is open). No {FILE} beside {index_dir}."
        )
    else:
        head = (
            f"Abstains below a confidence of {fitted.threshold:.3f}"
            f"{rule_phrase(fitted.min_known, fitted.abstain_on_names)} from now on, "
            f"fitted on {fitted.fitted_on} "
            f"({fitted.answerable} answerable questions, {fitted.unanswerable} not): {Path(index_dir) / FILE}"
        )
    lines = [
        head,
        f"  on these questions (the table above): answerable abstained {share(report.answerable_abstained)}, "
        f"unanswerable abstained {share(report.unanswerable_abstained)}",
        f"  expected on new questions (each left out of the fit in turn): answerable abstained "
        f"{share(report.estimated_answerable_abstained)}, unanswerable abstained "
        f"{share(report.estimated_unanswerable_abstained)}",
    ]
    stdout_console().print("\n".join(lines), markup=False, highlight=False)


METRIC_ORDER = (
    "hit@1", "hit@3", "hit@5", "hit@20", "doc_hit@1", "doc_hit@3", "doc_hit@5",
    "gold@1", "gold@5", "gold@20", "mrr@10", "ndcg@10", "recall@100",
    "followup_hit@3", "abstain_precision", "abstain_recall", "answerable_abstained", "answer_abstained",
    "unanswerable_answered",
    "p50_ms", "p95_ms",
)  # fmt: skip


def print_eval_report(report, eval_set=None) -> None:
    """The metrics as a rich table: one column per retrieval mode."""
    from rich.table import Table

    columns = {"hybrid": report.metrics, **report.compare}
    table = Table(title=f"{report.dataset} · {report.n_questions} questions · {report.kind}", title_justify="left")
    table.add_column("metric")
    for name in columns:
        table.add_column(name, justify="right")
    keys = [key for key in METRIC_ORDER if key in report.metrics]
    counts = _denominators(eval_set) if eval_set is not None else {}
    for key in keys:
        table.add_row(key, *(_format(key, metrics.get(key), counts) for metrics in columns.values()))
    console = stdout_console()
    console.print(table)
    console.print(f"index {report.index_dir} · model {report.model}", style="dim")


def print_eval_misses(report) -> None:
    """`qa eval --misses`: the questions the first passage did not answer, and why, for a person
    improving their documents or their questions."""
    from rich.table import Table
    from rich.text import Text

    missed = [outcome for outcome in report.questions if outcome.missed]
    console = stdout_console()
    if not report.questions:
        console.print("--misses lists questions asked of an index (JSONL); this set ranks its own corpus.")
        return
    table = Table(title=f"missed · {len(missed)} of {len(report.questions)} questions", title_justify="left")
    columns = ["id", "question", "answer at", "page at", "first passage from", "its highlight"]
    named = any(outcome.missing_words for outcome in missed)
    if named:  # a word the pages never use: a user's word for what they say otherwise, or what they lack
        columns.append("not in any document")
    for column in columns:
        table.add_column(column, overflow="fold")
    for outcome in missed:
        cells = (
            outcome.id,
            outcome.question,
            _miss_rank(outcome, outcome.answer_rank, answers=True),
            _miss_rank(outcome, outcome.page_rank, answers=False),
            outcome.first_source or "–",
            shorten(outcome.first_quote or "–", 200, placeholder=CUT),
        )
        if named:
            cells = (*cells, ", ".join(outcome.missing_words) or "–")
        table.add_row(*(Text(cell) for cell in cells))  # a question's "[...]" is not markup
    console.print(table)


def _miss_rank(outcome, rank: int | None, answers: bool) -> str:
    """Where the answer (or its page) came: a rank, 'not returned', or '–' where the set gives none."""
    if not outcome.answerable:
        return "answered" if answers else "–"
    flag = " · abstained" if outcome.abstained and answers else ""
    if rank is None:
        return "–" + flag
    return (str(rank) if rank else "not returned") + flag


def _denominators(eval_set) -> dict[str, int]:
    """Question counts behind the fractions, shown for small sets where '12/13' reads better."""
    if len(eval_set.questions) > 100:
        return {}
    answerable = sum(1 for q in eval_set.questions if q.answers)
    unanswerable = sum(1 for q in eval_set.questions if not q.answerable)
    counts = {f"hit@{k}": answerable for k in (1, 3, 5, 20)}
    with_pages = sum(1 for q in eval_set.questions if q.gold_sources)
    counts |= {f"doc_hit@{k}": with_pages for k in (1, 3, 5)}
    counts["abstain_recall"] = unanswerable
    counts["followup_hit@3"] = sum(1 for q in eval_set.questions if q.history and q.answers)
    counts["answerable_abstained"] = counts["answer_abstained"] = sum(1 for q in eval_set.questions if q.answerable)
    counts["unanswerable_answered"] = unanswerable
    return counts


def _format(key: str, value: float | None, counts: dict[str, int]) -> str:
    if value is None:
        return "–"
    if key.endswith("_ms"):
        return f"{value:.1f} ms"
    if key in counts and counts[key]:
        return f"{value:.3f} ({round(value * counts[key])}/{counts[key]})"
    return f"{value:.3f}"


STATUS_STYLE = {"verbatim": "green", "moved": "yellow", "changed": "red"}


def print_checks(checks, as_json: bool) -> None:
    """`qa verify`: per answer, each passage's status and where its text is now (and of each other
    place cited for its words, marked "also")."""
    if as_json:
        for check in checks:
            print(check.model_dump_json(), flush=True)
        return
    from rich.table import Table
    from rich.text import Text

    console = stdout_console()
    for check in checks:
        table = Table(title=Text(check.question), title_justify="left")
        for column in ("#", "status", "cited", "now"):
            table.add_column(column)
        for passage in check.passages:
            cited = f"{passage.doc_id} {passage.start}–{passage.end}"
            now = f"{passage.now_source} ({passage.now_doc_id}) {passage.now_start}–{passage.now_end}"
            if passage.status == "changed":
                now = "in no document now"
            elif passage.same_file is False:
                now += " · the file is a newer version"
            style = STATUS_STYLE[passage.status]
            rank = f"{passage.rank} (also)" if passage.also else str(passage.rank)
            table.add_row(rank, Text(passage.status, style=style), Text(cited), Text(now))
        console.print(table)
