"""`qa eval` end to end: the seed questions against the real model (asserting the targets), and
tiny SQuAD and BEIR sets made in tmp_path going through the runner and its corpus cache (fake encoder)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa.cli import app
from qa.evaluation import load_eval_set
from qa.evaluation.runner import corpus_index, eval_cache_dir, run_eval
from tests.conftest import SEED_QUESTIONS, require_shared

METRIC_KEYS_SEEDS = {"hit@1", "hit@3", "hit@5", "hit@20", "abstain_precision", "abstain_recall", "p50_ms", "p95_ms"}


@pytest.fixture(scope="module")
def seeds_report(seeds_index: Path, tmp_path_factory) -> dict:
    """`qa eval` on the public seed questions, once, with --compare and --json."""
    questions = require_shared(SEED_QUESTIONS)
    out = tmp_path_factory.mktemp("eval") / "seeds.json"
    result = CliRunner().invoke(
        app, ["eval", str(questions), "--index", str(seeds_index), "--json", str(out), "--compare"]
    )
    assert result.exit_code == 0, result.output
    assert "hit@1" in result.output  # the table
    return json.loads(out.read_text())


@pytest.mark.slow
def test_seed_report_shape(seeds_report):
    assert seeds_report["dataset"] == "questions"
    assert seeds_report["n_questions"] == 15
    assert METRIC_KEYS_SEEDS <= set(seeds_report["metrics"])
    assert set(seeds_report["compare"]) == {"bm25", "dense"}
    for metrics in [seeds_report["metrics"], *seeds_report["compare"].values()]:
        for key, value in metrics.items():
            assert value is None or (key.endswith("_ms") and value > 0) or 0 <= value <= 1, key


@pytest.mark.slow
def test_seed_targets(seeds_report):
    metrics = seeds_report["metrics"]
    answerable = 13
    assert round(metrics["hit@1"] * answerable) >= 12
    assert round(metrics["hit@3"] * answerable) >= 12
    assert metrics["abstain_recall"] == 1.0  # both unanswerable questions abstained
    assert metrics["abstain_precision"] == 1.0  # and no answerable one
    assert metrics["answerable_abstained"] == 0.0
    assert metrics["followup_hit@3"] == 1.0


@pytest.mark.slow
@pytest.mark.xfail(
    strict=True,
    reason="target hit@3 13/13 is missed by p12 ('NATO Secretary General' vs 'NATO chief'), docs/EVALUATION.md",
)
def test_seed_hit_at_3_target(seeds_report):
    assert seeds_report["metrics"]["hit@3"] == 1.0


def squad_file(folder: Path) -> Path:
    data = {
        "version": "1.1",
        "data": [
            {
                "title": "Harbour_of_Tallinn",
                "paragraphs": [
                    {
                        "context": "The old harbour of Tallinn was rebuilt in 1998. Its cranes were painted "
                        "red and blue, and the ferry terminal moved to the eastern pier.",
                        "qas": [
                            {"id": "h1", "question": "When was the harbour of Tallinn rebuilt?",
                             "answers": [{"answer_start": 43, "text": "1998"}]},
                            {"id": "h2", "question": "What colour were the cranes painted?",
                             "answers": [{"answer_start": 78, "text": "red and blue"}]},
                        ],
                    }
                ],
            },
            {
                "title": "Beekeeping",
                "paragraphs": [
                    {
                        "context": "Honey bees store nectar in wax combs. A strong colony holds about "
                        "fifty thousand workers in midsummer.",
                        "qas": [
                            {"id": "b1", "question": "How many workers does a strong bee colony hold?",
                             "answers": [{"answer_start": 66, "text": "fifty thousand"}]},
                        ],
                    },
                    {
                        "context": "Beekeepers wear veils and use smoke to calm the bees before opening a hive.",
                        "qas": [
                            {"id": "b2", "question": "What do beekeepers use to calm bees?",
                             "answers": [{"answer_start": 35, "text": "smoke"}]},
                        ],
                    },
                ],
            },
        ],
    }  # fmt: skip
    path = folder / "tiny-squad.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def beir_folder(folder: Path) -> Path:
    root = folder / "tiny-beir"
    (root / "qrels").mkdir(parents=True)
    corpus = [
        {"_id": "d1", "title": "Vitamin D and bone density",
         "text": "Vitamin D supplements raise bone mineral density in older adults."},
        {"_id": "d2", "title": "Coffee and sleep",
         "text": "Caffeine taken late in the day shortens total sleep time."},
        {"_id": "d3", "title": "Exercise and mood",
         "text": "Regular aerobic exercise reduces symptoms of mild depression."},
    ]  # fmt: skip
    queries = [
        {"_id": "q1", "text": "Vitamin D improves bone density."},
        {"_id": "q2", "text": "Drinking coffee in the evening reduces sleep."},
        {"_id": "q3", "text": "Unjudged query."},
    ]
    (root / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in corpus), encoding="utf-8")
    (root / "queries.jsonl").write_text("".join(json.dumps(q) + "\n" for q in queries), encoding="utf-8")
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n", encoding="utf-8")
    return root


def test_squad_corpus_is_indexed_once_and_scored(tmp_path, fake_model):
    eval_set = load_eval_set(squad_file(tmp_path))
    report = run_eval(eval_set, compare=True)
    assert report.kind == "squad" and report.n_questions == 4
    assert report.index_dir.parent == eval_cache_dir()
    metrics = report.metrics
    assert {"gold@1", "gold@5", "gold@20", "mrr@10", "hit@1", "p50_ms"} <= set(metrics)
    assert metrics["gold@1"] == 1.0 and metrics["hit@1"] == 1.0
    assert set(report.compare) == {"bm25", "dense"}
    assert "ndcg@10" not in metrics  # BEIR only

    stamp = (report.index_dir / "manifest.json").stat().st_mtime_ns
    again = run_eval(eval_set)
    assert again.index_dir == report.index_dir  # the cached index is reused, not rebuilt
    assert (again.index_dir / "manifest.json").stat().st_mtime_ns == stamp


def test_squad_titles_are_searchable_through_the_index(tmp_path, fake_model):
    from qa.collection import Collection

    eval_set = load_eval_set(squad_file(tmp_path))
    collection = Collection.open(corpus_index(eval_set))
    # "Tallinn" appears in the title and the text of one paragraph only; the other two
    # paragraphs share the title "Beekeeping", which their texts never say.
    answer = collection.ask("Beekeeping", top_k=3, mode="bm25")
    assert {passage.citation.doc_id for passage in answer.passages} == {"001-000", "001-001"}


def test_beir_folder_gives_ndcg_and_recall(tmp_path, fake_model):
    report = run_eval(load_eval_set(beir_folder(tmp_path)))
    assert report.kind == "beir" and report.n_questions == 2  # only judged queries count
    assert report.metrics["ndcg@10"] == 1.0
    assert report.metrics["recall@100"] == 1.0
    assert "gold@1" not in report.metrics


def test_cache_key_follows_content_model_chunking_and_the_vectors_kind(tmp_path):
    from qa.evaluation.runner import corpus_index_key
    from qa.ingest.chunking import ChunkingSettings

    eval_set = load_eval_set(squad_file(tmp_path))
    base = corpus_index_key(eval_set, "model-a", ChunkingSettings())
    assert base == corpus_index_key(eval_set, "model-a", ChunkingSettings())
    assert base != corpus_index_key(eval_set, "model-b", ChunkingSettings())
    assert base != corpus_index_key(eval_set, "model-a", ChunkingSettings(target_tokens=64))
    bfloat16 = corpus_index_key(eval_set, "model-a", ChunkingSettings(), passages="bfloat16")
    assert bfloat16 not in (base, corpus_index_key(eval_set, "model-a", ChunkingSettings(), quantized=True))
    assert base == corpus_index_key(eval_set, "model-a", ChunkingSettings(), passages="float32")  # caches made before


def test_eval_of_a_missing_file_is_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("Error:") and "Traceback" not in result.output


def test_eval_prints_a_table_and_writes_json(fake_seeds_index, fake_model, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": "How many Libyan army officers appeared in Rome?", "answers": ["Eight"]})
        + "\n"
        + json.dumps({"id": "q2", "question": "What is the tallest mountain in Africa?", "answers": []})
        + "\n"
    )
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["eval", str(questions), "--index", str(fake_seeds_index), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "hit@1" in result.output and "(1/1)" in result.output
    assert json.loads(out.read_text())["metrics"]["hit@1"] == 1.0


def test_misses_lists_the_questions_the_first_passage_did_not_answer(fake_seeds_index, fake_model, tmp_path):
    """`qa eval --misses`: a person improving their questions sees which ones failed and where the
    answer came; `--json` keeps each question's outcome."""
    questions = tmp_path / "questions.jsonl"
    records = [
        {"id": "found", "question": "How many Libyan army officers appeared in Rome?", "answers": ["Eight"]},
        {"id": "lost", "question": "Which [bracketed] thing is nowhere?", "answers": ["no such words anywhere"]},
        {"id": "none", "question": "What is the tallest mountain in Africa?", "answers": []},
        {"id": "named", "question": "Which officers defected to Kubernetes?", "answers": ["no such words anywhere"]},
    ]
    questions.write_text("".join(json.dumps(record) + "\n" for record in records))
    out = tmp_path / "report.json"
    args = ["eval", str(questions), "--index", str(fake_seeds_index), "--misses", "--json", str(out)]
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, args)
    assert result.exit_code == 0, result.output
    # The table's words, whatever width the console wraps its cells at.
    listed = set(re.sub(r"[│┃┏┓┗┛┡┩└┘┳┻╇━─]", " ", result.output.split("missed ·")[1]).split())
    assert {"lost", "[bracketed]", "returned"} <= listed  # the question as written: no markup eaten
    assert "found" not in listed
    outcomes = {outcome["id"]: outcome for outcome in json.loads(out.read_text())["questions"]}
    assert outcomes["found"]["answer_rank"] == 1 and not outcomes["found"]["missed"]
    assert outcomes["lost"]["answer_rank"] == 0 and outcomes["lost"]["missed"]
    # what came first instead, to judge whether it answers in other words
    first_words = outcomes["lost"]["first_quote"].split()[:3]
    assert first_words and set(first_words) <= listed
    assert outcomes["none"]["answerable"] is False
    assert ("none" in listed) == (not outcomes["none"]["abstained"])
    # the words no passage holds, for a person asking whether the pages say it otherwise
    assert outcomes["named"]["missing_words"] == ["Kubernetes"] and outcomes["found"]["missing_words"] == []
    assert {"not", "in", "any", "document", "Kubernetes"} <= listed


def test_questions_naming_their_pages_get_document_level_hits(fake_seeds_index, fake_model, tmp_path):
    """doc_hit@k compares each quoted passage's source with the question's `docs`."""
    questions = tmp_path / "pages.jsonl"
    records = [
        {"id": "right", "question": "Libyan army officers in Rome", "answers": ["Eight"], "docs": []},
        {"id": "elsewhere", "question": "Libyan army officers in Rome", "answers": ["x"], "docs": ["nowhere.txt"]},
    ]
    seeds = sorted(path.name for path in (Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
    records[0]["docs"] = seeds  # every passage comes from one of these
    questions.write_text("".join(json.dumps(record) + "\n" for record in records))
    out = tmp_path / "report.json"
    result = CliRunner().invoke(app, ["eval", str(questions), "--index", str(fake_seeds_index), "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "doc_hit@1" in result.output and "(1/2)" in result.output
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["doc_hit@1"] == metrics["doc_hit@5"] == 0.5


def test_questions_asked_of_another_corpus_count_as_unanswerable(tmp_path, fake_model):
    """`qa eval SET --against OTHER`: the calibration set's unanswerable side, through the CLI."""
    out = tmp_path / "against.json"
    result = CliRunner().invoke(
        app, ["eval", str(beir_folder(tmp_path)), "--against", str(squad_file(tmp_path)), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "unanswerable_answered" in result.output
    report = json.loads(out.read_text())
    assert report["n_questions"] == 2 and "asked of tiny-squad" in report["dataset"]
    assert report["metrics"]["unanswerable_answered"] + report["metrics"]["abstain_recall"] == 1.0
    assert "hit@1" not in report["metrics"] and "ndcg@10" not in report["metrics"]


def test_against_needs_a_corpus(tmp_path, fake_model):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "q1", "question": "Who?", "answers": ["x"]}) + "\n")
    result = CliRunner().invoke(app, ["eval", str(beir_folder(tmp_path)), "--against", str(questions)])
    assert result.exit_code == 1 and "--against needs" in result.output
