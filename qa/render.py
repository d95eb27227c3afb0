"""How answers and reports look on a terminal (rich) or as JSON."""

from __future__ import annotations

from qa.answers import Answer, DocumentInfo, IndexStats
from qa.console import stderr_console, stdout_console

NOT_CONFIDENT = "No passage answers this confidently. The closest passages are below."

__all__ = ["NOT_CONFIDENT", "print_answer", "print_index_report", "print_info", "stdout_console"]


def print_answer(answer: Answer, as_json: bool) -> None:
    if as_json:
        print(answer.model_dump_json(), flush=True)
        return
    from rich.panel import Panel
    from rich.text import Text

    console = stdout_console()
    if not answer.passages:
        console.print("[yellow]No passage found.[/]")
        return
    if not answer.answered:
        console.print(f"[yellow]{NOT_CONFIDENT}[/]")
    for passage in answer.passages:
        body = Text(passage.text)
        body.stylize("bold yellow", passage.highlight.start, passage.highlight.end)
        citation = passage.citation
        where = f"chars {citation.start}–{citation.end}" + (f", page {citation.page}" if citation.page else "")
        console.print(
            Panel(
                body,
                title=f"[bold]{passage.rank}. {Text(citation.title).markup}[/]",
                title_align="left",
                subtitle=f"{Text(citation.source).markup} · {where} · score {passage.score:.2f}",
                subtitle_align="right",
                border_style="green" if answer.answered else "yellow",
            )
        )


def print_index_report(report) -> None:
    console = stdout_console()
    console.print(report.summary)
    console.print(f"{report.passages} passages embedded · index at {report.index_dir}")
    if report.skipped:
        errors = stderr_console()
        errors.print(f"Skipped {len(report.skipped)} file(s):")
        for skipped in report.skipped:
            errors.print(f"  {skipped.path}: {skipped.reason}", markup=False, highlight=False)


def print_info(stats: IndexStats, documents: list[DocumentInfo]) -> None:
    from rich.table import Table

    console = stdout_console()
    console.print(
        f"[bold]{stats.path}[/]: {stats.documents} documents, {stats.passages} passages, "
        f"model {stats.model} ({stats.dimension}-d), updated {stats.updated:%Y-%m-%d %H:%M} UTC"
    )
    table = Table("doc_id", "title", "source", "passages")
    for document in documents:
        table.add_row(document.doc_id, document.title, document.source, str(document.passages))
    console.print(table)
