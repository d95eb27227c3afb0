"""The `qa` command as a user meets it: Typer's runner over the fake encoder, and real subprocesses."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app

runner = CliRunner()
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def invoke(*args, stdin=None):
    return runner.invoke(app, list(args), input=stdin)


def test_help_lists_the_commands():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("ask", "index", "chat"):
        assert command in result.output


def test_help_flows_paragraphs_across_the_terminal_not_at_the_source_lines():
    """A docstring's line breaks are the source's, not the reader's: a wide terminal gets long lines,
    not the source's 100-column ragged ones cut again at 80."""
    result = runner.invoke(app, ["verify", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "per passage, verbatim (still at its offsets), moved (elsewhere" in result.output
    listing = runner.invoke(app, ["--help"], env={"COLUMNS": "200"}).output
    assert "verbatim (still at its offsets)" in listing


@pytest.mark.parametrize("question", ["", "   "])
def test_empty_question_is_a_one_line_error(question):
    result = invoke("ask", question)
    assert result.exit_code == 1
    assert "question is empty" in result.output
    assert "Traceback" not in result.output


def test_too_long_question_is_refused():
    result = invoke("ask", "why " * 600)
    assert result.exit_code == 1
    assert "limit is 2000" in result.output


def test_missing_path_and_missing_index_are_clear(tmp_path):
    result = invoke("index", str(tmp_path / "nope"), "--index", str(tmp_path / "x.qa"))
    assert result.exit_code == 1 and "No such file or folder" in result.output
    result = invoke("ask", "Who?", "--index", str(tmp_path / "x.qa"))
    assert result.exit_code == 1 and "No index at" in result.output


def test_folder_without_supported_files(tmp_path):
    (tmp_path / "a.psd").write_bytes(b"8BPS")
    result = invoke("index", str(tmp_path), "--index", str(tmp_path.parent / "y.qa"))
    assert result.exit_code == 1
    assert "No supported files" in result.output


def test_ask_json_has_the_documented_shape(fake_seeds_index, fake_model):
    result = invoke("ask", "Who is Moussa Koussa?", "--top-k", "3", "--json", "--index", str(fake_seeds_index))
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert set(answer) == {"question", "answered", "took_ms", "passages", "generation", "missing_words"}
    assert answer["missing_words"] == []  # every word of it is in the seeds
    assert len(answer["passages"]) == 3
    first = answer["passages"][0]
    assert set(first) == {"rank", "score", "text", "highlight", "context", "citation", "also"}
    assert first["also"] == []  # the seeds repeat no passage word for word
    citation = {"doc_id", "source", "title", "start", "end", "page", "section", "url", "ocr", "sha256"}
    assert set(first["citation"]) == citation
    assert 0 <= first["highlight"]["start"] < first["highlight"]["end"] <= len(first["text"])
    context, highlight = first["context"], first["highlight"]
    assert 0 <= context["start"] <= highlight["start"] < highlight["end"] <= context["end"] <= len(first["text"])
    document = (PROJECT_ROOT / "seeds" / first["citation"]["source"]).read_text()
    assert first["text"].split("\n")[0][:60] in document


def test_questions_from_stdin_give_one_json_line_each(fake_seeds_index, fake_model):
    stdin = "How many Libyan army officers appeared in Rome?\n\nWho is Moussa Koussa?\n"
    result = invoke("ask", "-", "--json", "--index", str(fake_seeds_index), stdin=stdin)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.strip().split("\n")]
    assert [line["question"] for line in lines] == [
        "How many Libyan army officers appeared in Rome?",
        "Who is Moussa Koussa?",
    ]
    assert "Eight Libyan army officers" in lines[0]["passages"][0]["text"]


def test_human_output_shows_title_source_and_passage(fake_seeds_index, fake_model):
    result = invoke(
        "ask", "How many Libyan army officers appeared in Rome?", "--index", str(fake_seeds_index), "-k", "1"
    )
    assert result.exit_code == 0
    assert "Military Officials Flee Qaddafi's Libya" in result.output
    assert "000_5ff8cc3110b41a82.txt" in result.output
    assert "Eight Libyan army officers" in result.output


def test_words_no_document_holds_are_named_before_the_passages(fake_seeds_index, fake_model):
    """A typo, or something the documents never mention, is said plainly rather than left to the
    reader to guess from passages about something else."""
    question = "Did Moussa Koussa defect to Kubernetes or Londn?"
    result = invoke("ask", question, "--index", str(fake_seeds_index), "-k", "1")
    assert result.exit_code == 0, result.output
    first_line = result.output.splitlines()[0]
    assert first_line == "Not in any document: Kubernetes, Londn"
    answer = json.loads(invoke("ask", question, "--json", "--index", str(fake_seeds_index)).output)
    assert answer["missing_words"] == ["Kubernetes", "Londn"]
    assert "Not in any document" not in invoke("ask", "Who is Moussa Koussa?", "--index", str(fake_seeds_index)).output


def test_chat_reads_piped_stdin_and_ends_at_eof(fake_seeds_index, fake_model):
    result = invoke("chat", "--index", str(fake_seeds_index), stdin="Who is Moussa Koussa?\n/new\n")
    assert result.exit_code == 0, result.output
    assert "Koussa" in result.output


def test_index_command_reports_counts_and_skips(tmp_path, fake_model):
    docs = tmp_path / "a folder with a name long enough to pass the eighty columns of a log" / "docs"
    docs.mkdir(parents=True)
    (docs / "note.txt").write_text("The library opens at nine on weekdays and at ten on Saturdays.")
    (docs / "photo.psd").write_bytes(b"8BPS")
    result = invoke("index", str(docs), "--index", str(tmp_path / "docs.qa"))
    assert result.exit_code == 0, result.output
    assert "added 1, updated 0, removed 0, unchanged 0" in result.output
    # Not a terminal: the skipped file's path is printed whole, on one line, however long.
    assert f"{docs / 'photo.psd'}: unsupported" in result.output


def test_a_question_in_british_english_finds_pages_in_american_english(tmp_path, fake_model):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "legal.md").write_text(
        "# Legal\n\nThe library is distributed under the MIT license, as its authors chose.\n"
    )
    (docs / "hours.md").write_text("# Hours\n\nThe reading room opens at nine on weekdays and at ten on Saturdays.\n")
    assert invoke("index", str(docs), "--index", str(tmp_path / "docs.qa")).exit_code == 0
    answer = json.loads(
        invoke("ask", "Which licence is it under?", "--json", "--index", str(tmp_path / "docs.qa")).output
    )
    first = answer["passages"][0]
    assert first["citation"]["doc_id"] == "legal"
    assert first["text"][first["highlight"]["start"] : first["highlight"]["end"]].startswith(
        "The library is distributed"
    )
    assert answer["missing_words"] == []  # found in its other spelling, so not named as missing


def test_default_index_is_built_from_seeds_on_first_use(isolated_home, fake_model):
    from qa.config import default_index_dir

    result = invoke("ask", "Who is the NATO chief?", "--json", "-k", "1")
    assert result.exit_code == 0, result.output
    assert default_index_dir().parent == isolated_home / "indexes"
    assert default_index_dir().name.startswith("seeds-all-minilm-l6-v2-")
    assert (default_index_dir() / "manifest.json").exists()


def corpus_of(folder: Path, name: str, text: str) -> Path:
    folder.mkdir()
    (folder / name).write_text(text)
    return folder


def cited_sources(*question: str) -> list[str]:
    result = invoke("ask", *question, "--json", "-k", "5")
    assert result.exit_code == 0, result.output
    return sorted({passage["citation"]["url"] for passage in json.loads(result.stdout)["passages"]})


def test_another_default_corpus_gets_its_own_index(isolated_home, fake_model, tmp_path, monkeypatch):
    """Another checkout or QA_SEEDS: the default index answers from that folder's documents, not
    from the index another folder built first (which stays as it was)."""
    first = corpus_of(tmp_path / "first", "owls.txt", "Owls hunt at night in the forest.")
    second = corpus_of(tmp_path / "second", "bees.txt", "Bees make honey from the nectar of flowers.")
    monkeypatch.setenv("QA_SEEDS", str(first))
    assert cited_sources("What do owls do?") == [(first / "owls.txt").resolve().as_uri()]
    monkeypatch.setenv("QA_SEEDS", str(second))
    assert cited_sources("What do bees make?") == [(second / "bees.txt").resolve().as_uri()]
    monkeypatch.setenv("QA_SEEDS", str(first))
    assert cited_sources("What do owls do?") == [(first / "owls.txt").resolve().as_uri()]
    assert len(list((isolated_home / "indexes").glob("seeds-*"))) == 2


def test_the_default_index_an_older_qa_made_here_is_kept(isolated_home, fake_model, tmp_path, monkeypatch):
    """An older qa kept the default index as `seeds-<model>`. Built from this same folder, it stays
    the default, with the folders a user added to it; built from another folder, it is left alone."""
    from qa.config import default_index_dir, former_default_index_dir

    seeds = corpus_of(tmp_path / "seeds", "owls.txt", "Owls hunt at night in the forest.")
    added = corpus_of(tmp_path / "notes", "bees.txt", "Bees make honey from the nectar of flowers.")
    monkeypatch.setenv("QA_SEEDS", str(seeds))
    former = former_default_index_dir()
    for folder in (seeds, added):
        assert invoke("index", str(folder), "--index", str(former)).exit_code == 0
    assert (added / "bees.txt").resolve().as_uri() in cited_sources("What do bees make?")
    assert not default_index_dir().exists()  # nothing built beside it

    clone = tmp_path / "clone"  # the same seeds in another checkout
    shutil.copytree(seeds, clone)
    monkeypatch.setenv("QA_SEEDS", str(clone))
    assert cited_sources("What do owls do?") == [(clone / "owls.txt").resolve().as_uri()]
    assert default_index_dir().exists()
    assert invoke("ask", "What do bees make?", "--json", "--index", str(former)).exit_code == 0


@pytest.mark.slow
def test_real_subprocess_answers_and_help_is_quick_to_import(seeds_index, isolated_home):
    env = {**os.environ, "QA_HOME": str(isolated_home)}
    done = subprocess.run(
        [sys.executable, "-m", "qa", "ask", "Who is Moussa Koussa?", "--json", "--index", str(seeds_index)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["passages"]
    probe = "import sys, qa.cli; sys.exit(any(m in sys.modules for m in ('torch', 'sentence_transformers', 'faiss')))"
    assert subprocess.run([sys.executable, "-c", probe], env=env).returncode == 0, "qa.cli imports heavy libraries"


# `qa --help` imports ~270 modules (typer, rich and the standard library's); a heavy library at
# start-up adds hundreds (numpy alone ~150), so it fails here rather than on a stopwatch.
HELP_MODULES = 350
HEAVY = ("numpy", "torch", "sentence_transformers", "transformers", "faiss", "onnxruntime", "pydantic", "fastapi")


def test_help_imports_few_modules_and_no_heavy_library():
    probe = (
        "import sys; before = set(sys.modules); sys.argv = ['qa', '--help']\n"
        "from qa.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(set(sys.modules) - before)), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    imported = done.stderr.split()
    assert "Usage" in done.stdout and imported
    assert len(imported) <= HELP_MODULES, len(imported)
    assert not [name for name in imported if name.split(".")[0] in HEAVY]


@pytest.mark.parametrize(
    "manifest",
    [
        "garbage",
        '{"format_version": 2}',  # JSON, but not a manifest: nothing it must name
        # Each field there, one of the wrong type: the manifest is checked, not taken on trust.
        '{"format_version": 2, "generation": "three", "model": {"name": "m", "dimension": 384, "max_tokens": 256},'
        ' "faiss_version": "1", "created": "2026-12-04T10:00:00Z", "updated": "2026-12-04T10:00:00Z", "chunking": {}}',
        '{"format_version": 2, "model": {"name": "m", "dimension": 384, "max_tokens": 256}, "faiss_version": "1",'
        ' "created": "yesterday", "updated": "2026-12-04T10:00:00Z", "chunking": {}}',
    ],
)
def test_unreadable_index_is_an_error_not_a_traceback(tmp_path, manifest):
    index_dir = tmp_path / "broken.qa"
    index_dir.mkdir()
    (index_dir / "manifest.json").write_text(manifest)
    result = invoke("ask", "Who?", "--index", str(index_dir))
    assert result.exit_code == 1
    assert "unreadable" in result.output and "--rebuild" in result.output


@pytest.mark.slow
@pytest.mark.parametrize("where", ["--index", "the default seeds index"])
def test_asking_does_not_import_torch_or_the_writing_path(seeds_index, isolated_home, where):
    """Questions go through the ONNX export made at indexing time: a cold `qa ask` skips torch,
    the readers, chunking and indexing it has no use for (also when it only checks that the
    default seeds index is there), FAISS, which a small index's exact vectors do not need, and
    numpy's masked arrays, which `np.unique` imports, and pydantic, which only the HTTP API and
    the checks of input files need (~0.2 s); with --json, rich too, which only draws for a person
    (docs/PERFORMANCE.md, "Start-up")."""
    from qa.config import default_index_dir

    arguments = ["ask", "Who is Moussa Koussa?", "--json"]
    if where == "--index":
        arguments += ["--index", str(seeds_index)]
    else:
        shutil.copytree(seeds_index, default_index_dir())
    probe = (
        "import json, sys; from qa.cli import main\n"
        f"sys.argv = ['qa', *{arguments!r}]\n"
        "try:\n    main()\nexcept SystemExit as done:\n    assert not done.code, done.code\n"
        "heavy = {'torch', 'sentence_transformers', 'qa.ingest', 'numpy.ma', 'rich', 'faiss', 'pydantic'}\n"
        "heavy &= set(sys.modules)\n"
        "print(json.dumps(sorted(heavy)), file=sys.stderr)"
    )
    env = {**os.environ, "QA_HOME": str(isolated_home)}
    run = subprocess.run([sys.executable, "-c", probe], env=env, timeout=300, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["passages"]
    assert json.loads(run.stderr.strip().splitlines()[-1]) == []


@pytest.mark.parametrize("command", [["ask", "Who is Moussa Koussa?"], ["info"]])
def test_the_garbage_collector_runs_again_once_a_command_has_loaded(seeds_index, isolated_home, command):
    """`qa` pauses the cyclic GC while a command loads and freezes what it loaded (a faster cold
    `qa ask`); every command must then run with the collector on, or a long one (`qa serve`,
    `qa watch`) would never free a reference cycle."""
    probe = (
        "import atexit, gc, sys; from qa.cli import main; "
        "atexit.register(lambda: print('collector', gc.isenabled(), gc.get_freeze_count(), file=sys.stderr)); "
        f"sys.argv = ['qa', *{command!r}, '--index', {str(seeds_index)!r}]; main()"
    )
    env = {**os.environ, "QA_HOME": str(isolated_home)}
    run = subprocess.run([sys.executable, "-c", probe], env=env, timeout=300, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    _, enabled, frozen = run.stderr.strip().splitlines()[-1].split()
    assert enabled == "True"
    assert int(frozen) > 10_000  # the libraries' objects, left out of every collection


@pytest.mark.slow
def test_one_question_gets_the_answer_the_same_question_gets_from_stdin(seeds_index, isolated_home):
    """`qa ask QUESTION` loads the model in its fastest-starting form (no pre-packed weights, no
    warm-up); `qa ask -` keeps the form made for many questions. The answers must be the same."""
    env = {**os.environ, "QA_HOME": str(isolated_home)}
    question = "Who is Moussa Koussa?"
    base = [sys.executable, "-m", "qa", "ask", "--json", "--index", str(seeds_index)]
    one = subprocess.run([*base, question], capture_output=True, text=True, env=env, timeout=300)
    piped = subprocess.run([*base, "-"], input=question + "\n", capture_output=True, text=True, env=env, timeout=300)
    assert one.returncode == 0 and piped.returncode == 0, one.stderr + piped.stderr
    one, piped = json.loads(one.stdout), json.loads(piped.stdout)
    assert [p["citation"] for p in one["passages"]] == [p["citation"] for p in piped["passages"]]
    assert one["passages"]
    for a, b in zip(one["passages"], piped["passages"], strict=True):
        assert a["score"] == pytest.approx(b["score"], abs=1e-4)


@pytest.mark.slow
def test_quantized_index_answers_and_keeps_its_kind(tmp_path, monkeypatch):
    """With the real model: `--quantize` gives int8, `qa info` says so, and the index refuses
    float32 passages until it is rebuilt."""
    monkeypatch.setenv("QA_PASSAGES", "float32")  # not bfloat16, where the CPU has AMX (tests/test_bf16.py)
    index_dir = tmp_path / "int8.qa"
    result = invoke("index", str(PROJECT_ROOT / "seeds"), "--index", str(index_dir), "--quantize")
    assert result.exit_code == 0, result.output
    result = invoke("ask", "How many Libyan army officers appeared in Rome?", "--index", str(index_dir), "--json")
    assert "Eight Libyan army officers" in json.loads(result.output)["passages"][0]["text"]
    assert "384-d, int8" in invoke("info", "--index", str(index_dir)).output
    result = invoke("index", str(PROJECT_ROOT / "seeds"), "--index", str(index_dir), "--no-quantize")
    assert result.exit_code == 1 and "int8" in result.output and "--rebuild" in result.output
    result = invoke("index", str(PROJECT_ROOT / "seeds"), "--index", str(index_dir), "--no-quantize", "--rebuild")
    assert result.exit_code == 0 and "384-d, float32" in invoke("info", "--index", str(index_dir)).output


def test_the_cli_reference_in_docs_is_current():
    from qa.cli.reference import cli_reference

    assert (PROJECT_ROOT / "docs" / "cli.md").read_text() == cli_reference(), "run: make docs"


def indexed_folder(folder: Path, files: dict[str, str]) -> tuple[Path, str]:
    """`folder` holding `files` (name: text), indexed by `qa index` into a new index beside it."""
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    index = str(folder.with_suffix(".qa"))
    done = invoke("index", str(folder), "--index", index)
    assert done.exit_code == 0, done.output
    return folder, index


def test_remove_and_compact_from_the_command_line(tmp_path, fake_model):
    docs, index = indexed_folder(
        tmp_path / "docs",
        {
            "a.txt": "The library opens at nine on weekdays and at ten on Saturdays.",
            "b.txt": "The museum closes on Mondays except in the summer months.",
        },
    )
    removed = invoke("remove", "a", "--index", index)
    # The removed file's path may wrap at the terminal's width: look for its name without the breaks.
    assert removed.exit_code == 0 and "removed 1" in removed.output and "a.txt" in "".join(removed.output.split())
    missing = invoke("remove", "nothing-like-this", "--index", index)
    assert missing.exit_code == 1 and "Nothing was removed" in missing.output
    compacted = invoke("index", "--compact", "--index", index)
    assert compacted.exit_code == 0 and "1 segment" in compacted.output
    assert invoke("index").exit_code == 1  # no paths and no index whose sources to refresh
    info = invoke("info", "--index", index)
    words = " ".join(info.output.split())
    assert "1 documents" in words and "1 segment" in words and "b.txt" in words and "a.txt" not in words


def test_a_busy_index_is_one_line_naming_the_writer(tmp_path, fake_model):
    from qa.store.lock import WriterLock

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The library opens at nine on weekdays and at ten on Saturdays.")
    index_dir = tmp_path / "docs.qa"
    assert invoke("index", str(docs), "--index", str(index_dir)).exit_code == 0
    with WriterLock(index_dir):
        result = invoke("index", str(docs), "--index", str(index_dir), "--wait", "0.1")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Another qa process (pid ") and "Traceback" not in result.output


ROME_DOC = "000_5ff8cc3110b41a82"


def test_passages_are_short_unless_full_is_asked(fake_seeds_index, fake_model):
    args = ("ask", "Who is Moussa Koussa?", "--top-k", "3", "--index", str(fake_seeds_index))
    short, full = invoke(*args), invoke(*args, "--full")
    assert short.exit_code == 0 and full.exit_code == 0, short.output + full.output
    assert "…" in short.output  # the passage goes on: the short form says so
    assert "…" not in full.output
    assert len(short.output.splitlines()) < len(full.output.splitlines())


def test_ask_filters_by_document_and_type(fake_seeds_index, fake_model):
    question = ("ask", "Who is Moussa Koussa?", "--index", str(fake_seeds_index), "--json")
    answer = json.loads(invoke(*question, "--doc", ROME_DOC, "--top-k", "10").output)
    assert {passage["citation"]["doc_id"] for passage in answer["passages"]} == {ROME_DOC}
    answer = json.loads(invoke(*question, "--in", "001_*", "--in", f"{ROME_DOC}.txt").output)
    assert {p["citation"]["doc_id"][:3] for p in answer["passages"]} == {"000", "001"}
    result = invoke("ask", "Who is Moussa Koussa?", "--index", str(fake_seeds_index), "--type", "pdf")
    assert result.exit_code == 0
    assert result.output.strip() == "No document matches the filters."  # not every word "not in any document"


def test_a_doc_given_as_its_file_name_is_answered_with_its_doc_id(fake_seeds_index, fake_model):
    question = ("ask", "Who is Moussa Koussa?", "--index", str(fake_seeds_index))
    result = invoke(*question, "--doc", f"{ROME_DOC}.txt", "--doc", "nonesuch")
    assert result.exit_code == 0
    assert " ".join(result.output.split()) == (
        f"No document matches the filters. {ROME_DOC}.txt is the file of doc_id {ROME_DOC}: "
        f"--doc {ROME_DOC}, or --in {ROME_DOC}.txt. No document has doc_id nonesuch (qa info lists them)."
    )
    chat = invoke("chat", "--index", str(fake_seeds_index), "--doc", f"{ROME_DOC}.txt", stdin="Who is Moussa Koussa?\n")
    assert f"{ROME_DOC}.txt is the file of doc_id {ROME_DOC}" in " ".join(chat.output.split())
    narrowed = invoke(*question, "--doc", ROME_DOC, "--top-k", "1")
    assert "No document matches" not in narrowed.output and "Not in any document" not in narrowed.output
    assert "Not in the documents searched: Moussa, Koussa" in narrowed.output  # named in other articles only


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--since", "2011-13-01"], "Error: Invalid filter: since: '2011-13-01' is not a date like 2011-03-01"),
        (["--since", "2012-01-01", "--until", "2011-01-01"], "since (2012-01-01) is after until (2011-01-01)"),
    ],
)
def test_a_bad_filter_is_a_one_line_error(fake_seeds_index, fake_model, options, message):
    result = invoke("ask", "Who?", "--index", str(fake_seeds_index), *options)
    assert result.exit_code == 1
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_chat_full_switches_to_whole_passages(fake_seeds_index, fake_model):
    question = "Who is Moussa Koussa?"
    result = invoke("chat", "--index", str(fake_seeds_index), "--top-k", "3", stdin=f"{question}\n/full\n{question}\n")
    assert result.exit_code == 0, result.output
    short, full = result.output.split("Passages are now shown whole.")
    assert "…" in short and "…" not in full


def test_info_stays_readable_at_80_columns(fake_seeds_index, fake_model, monkeypatch):
    from qa.cli import console

    monkeypatch.setenv("COLUMNS", "80")
    console.stdout_console.cache_clear()
    try:
        result = invoke("info", "--index", str(fake_seeds_index))
    finally:
        console.stdout_console.cache_clear()
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert max(len(line) for line in lines) <= 80
    for seed in sorted((PROJECT_ROOT / "seeds").glob("*.txt")):
        assert seed.stem in result.output  # ids are whole, not cut off with an ellipsis
    assert any(line.split() == ["doc_id", "title", "source", "passages"] for line in lines)


def test_chat_recalls_earlier_questions_with_the_up_arrow(tmp_path):
    """Through a real terminal: the up arrow brings back the question typed before."""
    import pty
    import select

    script = (
        "from pathlib import Path\n"
        "from qa.cli.history import InputHistory\n"
        f"history = InputHistory.start(Path({str(tmp_path / 'history')!r}))\n"
        "for _ in range(2):\n"
        "    print('got', repr(history.ask()), flush=True)\n"
    )
    pid, terminal = pty.fork()
    if pid == 0:  # the child: a Python reading from the terminal
        os.execv(sys.executable, [sys.executable, "-c", script])
    output = b""

    def read_until(marker: bytes, times: int = 1) -> None:
        nonlocal output
        while output.count(marker) < times:
            ready, _, _ = select.select([terminal], [], [], 10)
            assert ready, f"no {marker!r} in {output!r}"
            output += os.read(terminal, 1024)

    read_until(b"? ")
    os.write(terminal, b"who defected?\r")
    read_until(b"got 'who defected?'")
    os.write(terminal, b"\x1b[A\r")  # up arrow, then Enter
    read_until(b"got 'who defected?'", times=2)
    os.waitpid(pid, 0)
    assert "who defected?" in (tmp_path / "history").read_text()


def test_verbose_sends_info_logs_to_stderr_and_the_default_does_not(fake_seeds_index, fake_model):
    quiet = invoke("info", "--index", str(fake_seeds_index))
    assert quiet.exit_code == 0, quiet.output
    assert "info:" not in quiet.stderr and "Opened" not in quiet.stderr
    verbose = invoke("-v", "info", "--index", str(fake_seeds_index))
    assert verbose.exit_code == 0, verbose.output
    assert f"info: Opened {fake_seeds_index}" in verbose.stderr
    assert "Opened" not in verbose.stdout
    assert all(line.split(":", 1)[0] in {"info", "warning", "error"} for line in verbose.stderr.splitlines())
    invoke("info", "--index", str(fake_seeds_index))  # leaves the session's logging at its default


def test_a_logged_warning_is_one_plain_line_without_a_traceback():
    import logging

    from qa.cli.logs import PlainFormatter

    try:
        raise ValueError("bad\nvalue")
    except ValueError as error:
        record = logging.LogRecord(
            "qa.x", logging.WARNING, __file__, 1, "kept the old %s", ("one",), (ValueError, error, None)
        )
    line = PlainFormatter().format(record)
    assert line == "warning: kept the old one (ValueError: bad value)"


def test_a_sites_stylesheets_and_scripts_are_counted_by_type_and_unreadable_files_named(tmp_path, fake_model):
    """A built web site holds more assets than pages: the files that are not documents are
    counted by type in one line, so the file that could not be read is not lost among them."""
    site = tmp_path / "site"
    (site / "css").mkdir(parents=True)
    (site / "guide.html").write_text("<html><body><p>The reading room opens at nine on weekdays.</p></body></html>")
    for name in ("general.css", "print.css", "chrome.css"):
        (site / "css" / name).write_text("body { color: black }")
    for name in ("book.js", "search.js", "clipboard.min.js", "ferris.js"):
        (site / name).write_text("void 0;")
    (site / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    result = invoke("index", str(site), "--index", str(tmp_path / "site.qa"))
    assert result.exit_code == 0, result.output
    assert "Skipped 8 file(s):" in result.output
    assert "7 that are not documents (.js 4, .css 3); `qa info` lists each" in result.output
    assert f"{site / 'broken.pdf'}: " in result.output
    assert "general.css" not in result.output
    listed = invoke("info", "--index", str(tmp_path / "site.qa")).output
    assert "general.css" in listed and "broken.pdf" in listed


def test_qa_index_leaves_out_what_the_folders_qaignore_names_and_removes_it_once_named(tmp_path, fake_model):
    """An old edition's stub pages shipped beside a book are left out by a line in .qaignore; a
    name added to it later removes that document on the next run, and the summary says how many
    files the rules left out."""
    book = tmp_path / "book"
    (book / "2018-edition").mkdir(parents=True)
    (book / "ownership.md").write_text("# What is ownership?\n\nOwnership is a set of rules that govern memory.\n")
    (book / "print.md").write_text("# The whole book\n\nOwnership is a set of rules that govern memory.\n")
    (book / "2018-edition" / "ownership.md").write_text("# What is ownership?\n\nThis edition is no longer shipped.\n")
    (book / ".qaignore").write_text("2018-edition/\n")
    index = str(tmp_path / "book.qa")

    first = invoke("index", str(book), "--index", index)
    assert first.exit_code == 0, first.output
    assert "added 2, updated 0, removed 0, unchanged 0 · 1 left out by .qaignore" in first.output
    (book / ".qaignore").write_text("2018-edition/\nprint.md\n")
    again = invoke("index", str(book), "--index", index)
    assert "added 0, updated 0, removed 1, unchanged 1 · 2 left out by .qaignore" in again.output
    sources = [
        p["citation"]["source"]
        for p in json.loads(invoke("ask", "ownership", "--json", "--index", index).output)["passages"]
    ]
    assert sources == ["ownership.md"]


def test_qa_index_reads_a_page_once_when_its_markdown_source_stands_beside_it(tmp_path, fake_model):
    """Node.js's API folder ships readline.md beside readline.html: each answer came twice. The
    page is read, the source is reported; a source indexed before its page was built is removed."""
    docs, index = indexed_folder(
        tmp_path / "api",
        {
            "readline.md": "# Readline\n\nThe readline module reads a stream one line at a time.\n",
            "dns.md": "# DNS\n\nThe dns module resolves names to addresses.\n",
        },
    )
    (docs / "readline.html").write_text(
        "<html><body><main><h1>Readline</h1><p>The readline module reads a stream one line at a time.</p>"
        "</main></body></html>"
    )
    again = invoke("index", str(docs), "--index", index)
    assert again.exit_code == 0, again.output
    assert "added 1, updated 0, removed 1, unchanged 1" in again.output
    assert f"{docs / 'readline.md'}: the source of readline.html, which is read in its place" in again.output
    answer = json.loads(invoke("ask", "How do I read a stream line by line?", "--json", "--index", index).output)
    sources = [passage["citation"]["source"] for passage in answer["passages"]]
    assert sources.count("readline.html") == 1 and "readline.md" not in sources


def test_a_folder_of_only_assets_is_one_line_error_counting_them_by_type(tmp_path, fake_model):
    assets = tmp_path / "assets"
    assets.mkdir()
    for number in range(7):
        (assets / f"theme-{number}.css").write_text("body { color: black }")
    result = invoke("index", str(assets), "--index", str(tmp_path / "assets.qa"))
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "No supported files in" in result.output and "7 that are not documents (.css 7)" in result.output
    assert "theme-3.css" not in result.output
