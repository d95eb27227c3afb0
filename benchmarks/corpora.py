"""The corpora and questions the benchmarks use, and their indexes, cached under benchmarks/results/.cache.

SciFact is written as one Markdown file per abstract ("# title", a blank line, the abstract), so that
`qa index` reads it like any folder and every document's title is its heading (as a .txt file, titles
that end with a period would not be recognised and the file name would be used instead).
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.common import REPO

CACHE = REPO / "benchmarks" / "results" / ".cache"
SHARED_EVAL = REPO.parent / "shared" / "eval"
SCIFACT = SHARED_EVAL / "scifact"
SEED_QUESTIONS = SHARED_EVAL / "seeds" / "questions.jsonl"
SEEDS = REPO / "seeds"


# The documentation sets of issue 18 (their corpora are indexed by whoever measures them).
def doc_set_questions(name: str) -> Path:
    """The questions of a documentation set of benchmarks/sets ("sqlite", "borg", "git", "pdf")."""
    return REPO / "benchmarks" / "sets" / f"{name}-docs" / "questions.jsonl"


DOC_QUESTIONS = {name: doc_set_questions(name) for name in ("sqlite", "borg")}

# Used when ../shared is absent: questions about the seed articles.
FALLBACK_SEED_QUESTIONS = [
    "Who is Moussa Koussa?",
    "Which former foreign minister refused to become Libya's UN ambassador?",
    "What did the British Foreign Office say about its contacts with senior Libyans?",
    "How many military officials defected from Qaddafi's army?",
    "Where did the Libyan army officers appear after defecting?",
]


def cache_dir() -> Path:
    """The cache folder, ignored by git through its own .gitignore."""
    CACHE.mkdir(parents=True, exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n")
    return CACHE


def has_scifact() -> bool:
    return (SCIFACT / "corpus.jsonl").exists()


def scifact_size(limit: int | None) -> int:
    total = sum(1 for line in (SCIFACT / "corpus.jsonl").open() if line.strip())
    return total if limit is None else min(limit, total)


def scifact_folder(limit: int | None = None) -> Path:
    """The first `limit` SciFact abstracts (all when None) as Markdown files, written once."""
    size = scifact_size(limit)
    folder = cache_dir() / f"scifact-md-{size}"
    if folder.exists() and sum(1 for _ in folder.glob("*.md")) == size:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    with (SCIFACT / "corpus.jsonl").open() as lines:
        for number, line in enumerate(line for line in lines if line.strip()):
            if number == size:
                break
            record = json.loads(line)
            title = " ".join(record["title"].split())
            (folder / f"{record['_id']}.md").write_text(f"# {title}\n\n{record['text'].strip()}\n")
    return folder


def build_index(folders: list[Path], index_dir: Path) -> Path:
    """An index of `folders` at `index_dir`, built when missing or made with other chunking settings."""
    from qa.ingest.chunking import ChunkingSettings
    from qa.ingest.indexing import ensure_index

    return ensure_index(index_dir, folders, ", ".join(map(str, folders)), chunking=ChunkingSettings())


def seeds_index() -> Path:
    return build_index([SEEDS], cache_dir() / "seeds-index")


def scifact_index(limit: int | None = None) -> Path:
    return build_index([scifact_folder(limit)], cache_dir() / f"scifact-index-{scifact_size(limit)}")


def seed_questions() -> list[str]:
    if not SEED_QUESTIONS.exists():
        return list(FALLBACK_SEED_QUESTIONS)
    return [json.loads(line)["question"] for line in SEED_QUESTIONS.read_text().splitlines() if line.strip()]


def scifact_questions(count: int) -> list[str]:
    """The first `count` SciFact test claims (queries with relevance judgements)."""
    tested = {line.split("\t")[0] for line in (SCIFACT / "qrels" / "test.tsv").read_text().splitlines()[1:]}
    questions = []
    for line in (SCIFACT / "queries.jsonl").read_text().splitlines():
        record = json.loads(line)
        if record["_id"] in tested:
            questions.append(record["text"])
        if len(questions) == count:
            break
    return questions


def ranking_sets(squad_sample: int | None = None) -> list[tuple[str, object, object]]:
    """(name, eval set, collection) for SciFact, SQuAD dev-a (a seeded sample of `squad_sample`
    questions when given) and the seed questions: what the ranking experiments measure in one run.
    The collections are `qa eval`'s cached indexes and share one encoder."""
    import random

    from qa.collection import Collection, ensure_default_index
    from qa.evaluation.datasets import EvalSet, load_beir, load_questions, load_squad
    from qa.evaluation.runner import corpus_index

    squad = load_squad(SHARED_EVAL / "squad" / "dev-a.json")
    if squad_sample is not None:
        sample = random.Random(0).sample(squad.questions, min(squad_sample, len(squad.questions)))
        squad = EvalSet(squad.name, squad.kind, sample, squad.corpus, squad.content_hash)
    scifact = load_beir(SCIFACT)
    first = Collection.open(corpus_index(scifact))
    return [
        ("SciFact", scifact, first),
        ("SQuAD dev-a", squad, Collection.open(corpus_index(squad), encoder=first.encoder)),
        (
            "seeds",
            load_questions(SEED_QUESTIONS),
            Collection.open(ensure_default_index(encoder=first.encoder), encoder=first.encoder),
        ),
    ]


def asked_with_retrievers(sets, retriever_for, weights, keys) -> dict[str, dict[str, dict[str, float]]]:
    """Every (name, eval set, collection) of `sets` asked through `qa eval`'s code with the retriever
    `retriever_for(settings, weight)` for weight 0 (today's ranking) and each of `weights`: the
    metrics named in `keys`, by weight and set, each printed as it comes."""
    from qa.evaluation.metrics import summarize
    from qa.evaluation.runner import run_questions

    results: dict[str, dict[str, dict[str, float]]] = {}
    for weight in [0.0, *weights]:
        for name, eval_set, collection in sets:
            collection.retriever = retriever_for(collection.retriever.settings, weight)
            summary = summarize(eval_set, run_questions(collection, eval_set))
            results.setdefault(str(weight), {})[name] = {key: summary[key] for key in keys if key in summary}
            print(weight, name, results[str(weight)][name], flush=True)
    return results


RANKING_KEYS = ("ndcg@10", "gold@1", "gold@5", "hit@1", "hit@3", "doc_hit@1", "answerable_abstained")


def with_doc_sets(sets: list, pairs: list[str]) -> list:
    """`sets` and, for each "NAME=INDEX" of `pairs`, that documentation set asked of the index you
    built of its corpus, with the first set's encoder."""
    from qa.collection import Collection
    from qa.evaluation.datasets import load_questions

    encoder = sets[0][2].encoder if sets else None
    added = []
    for pair in pairs:
        name, index = pair.split("=", 1)
        collection = Collection.open(Path(index), encoder=encoder)
        encoder = encoder or collection.encoder
        added.append((name, load_questions(doc_set_questions(name)), collection))
    return [*sets, *added]


def metric_rows(results: dict[str, dict[str, dict[str, float]]]) -> list[list]:
    """`asked_with_retrievers`' results as table rows: weight, set, its metrics."""
    return [
        [weight, name, " ".join(f"{key} {value:.4f}" for key, value in metrics.items())]
        for weight, by_set in results.items()
        for name, metrics in by_set.items()
    ]
