"""Ranking experiment: the question read against each leading passage token by token (late interaction).

A bi-encoder squeezes a passage into one vector, so "How many columns can a table have?" meets a
passage about the columns of one table of the file format as closely as the limit's own. A
cross-encoder would read the two together, and none ships offline here. What the one model can do
is keep its token vectors: each word of the question takes its best match among the passage's
tokens (MaxSim, as ColBERT scores), and the mean over the question's words says how much of the
question the passage speaks to, word by word, in context. The model was not trained for this
(its vectors are mean-pooled), so it is measured, not assumed.

For the `rerank_depth` leading candidates of today's ranking, γ × MaxSim(question, section path ·
passage) is added to each one's score (`HybridRetriever.page_signals`), so only their order changes.
γ = 0 is today's ranking. Every set in one run: SciFact, a seeded sample of SQuAD dev-a and the
seed questions (`qa eval`'s cached indexes), and the documentation sets on indexes you built.

    python -m benchmarks.rank_late_interaction --docs sqlite=/tmp/sqlite.qa borg=/tmp/borg.qa \
        git=/tmp/git.qa pdf=/tmp/pdf.qa [--weights 0.3 0.7] [--squad-sample 2000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.common import load_average, print_table, write_results
from benchmarks.corpora import RANKING_KEYS, asked_with_retrievers, metric_rows, ranking_sets, with_doc_sets
from qa.search.retrieval import HybridRetriever


class TokenReader:
    """The model's token vectors for questions and passages, each passage read once."""

    def __init__(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        from embeddings.model import bundled_model_dir

        self.model = SentenceTransformer(str(bundled_model_dir()), device="cpu").to(dtype=torch.bfloat16)
        self.passages: dict[str, np.ndarray] = {}
        self.seconds = 0.0
        self.read = 0
        from qa.text.analysis import QUESTION_STOPWORDS

        self.stop = QUESTION_STOPWORDS

    def _tokens(self, texts: list[str]) -> list[np.ndarray]:
        started = time.perf_counter()
        out = self.model.encode(texts, output_value="token_embeddings", batch_size=32, convert_to_numpy=False)
        vectors = []
        for matrix in out:
            m = matrix.float().numpy()[1:-1]  # [CLS] and [SEP] out
            m /= np.linalg.norm(m, axis=1, keepdims=True) + 1e-9
            vectors.append(m.astype(np.float16))
        self.seconds += time.perf_counter() - started
        self.read += len(texts)
        return vectors

    def question(self, text: str) -> np.ndarray:
        tokenizer = self.model.tokenizer
        ids = tokenizer(text, truncation=True, max_length=256)["input_ids"][1:-1]
        (matrix,) = self._tokens([text])
        words = tokenizer.convert_ids_to_tokens(ids)
        keep = [i for i, w in enumerate(words[: len(matrix)]) if w.strip("#").isalnum() and w not in self.stop]
        return matrix[keep] if keep else matrix

    def passage_tokens(self, texts: list[str]) -> list[np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self.passages]
        for text, matrix in zip(missing, self._tokens(missing) if missing else []):
            self.passages[text] = matrix
        return [self.passages[t] for t in texts]


_READER: TokenReader | None = None


def reader() -> TokenReader:
    global _READER
    if _READER is None:
        _READER = TokenReader()
    return _READER


def max_sim(question: np.ndarray, passage: np.ndarray) -> float:
    if not len(question) or not len(passage):
        return 0.0
    return float((question.astype(np.float32) @ passage.astype(np.float32).T).max(axis=1).mean())


class LateInteractionRetriever(HybridRetriever):
    def __init__(self, settings, weight: float) -> None:
        super().__init__(settings)
        self.weight = weight
        self._question: tuple[str, np.ndarray] | None = None

    def page_signals(self, rows, fused, question: str = ""):
        extra = super().page_signals(rows, fused, question)
        if not self.weight or not question:
            return extra
        r = reader()
        if self._question is None or self._question[0] != question:
            self._question = (question, r.question(question))
        texts = [(" › ".join(row.section) + "\n" + row.text) if row is not None else "" for row in rows]
        matrices = r.passage_tokens(texts)
        scores = np.array([max_sim(self._question[1], m) for m in matrices], dtype=np.float32)
        return extra + self.weight * scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.3, 0.7])
    parser.add_argument("--squad-sample", type=int, default=2000)
    parser.add_argument("--docs", nargs="*", default=[], help="NAME=INDEX for the documentation sets")
    parser.add_argument("--only-docs", action="store_true", help="leave out SciFact, SQuAD and the seeds")
    args = parser.parse_args()
    load = load_average()
    sets = with_doc_sets([] if args.only_docs else ranking_sets(args.squad_sample), args.docs)
    results = asked_with_retrievers(sets, LateInteractionRetriever, args.weights, RANKING_KEYS)
    rows = metric_rows(results)
    print_table("Late interaction (MaxSim) added to the leading candidates", ["γ", "set", "metrics"], rows)
    cost = {"passages read": reader().read if _READER else 0, "seconds": _READER.seconds if _READER else 0.0}
    print(cost)
    write_results(
        "rank_late_interaction", {"args": vars(args), "load": [load, load_average()], "weights": results, "cost": cost}
    )


if __name__ == "__main__":
    main()
