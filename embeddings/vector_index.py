"""A FAISS inner-product index over L2-normalised vectors, keyed by our own int64 ids.

Small collections use exact search (`IndexIDMap2` over a flat index). Past `APPROXIMATE_ABOVE`
vectors the index becomes an inverted file (IVF, exact distances within the probed lists), which
keeps ids and reconstruction, and is memory-mapped when loaded.
"""

from __future__ import annotations

import logging
import math
import threading
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

APPROXIMATE_ABOVE = 100_000
TRAINING_POINTS_PER_LIST = 40
# A subset this small is scored exactly from its reconstructed vectors: cheaper than a selector
# over the whole index, and an IVF probe could miss it altogether.
EXACT_SUBSET = 2048
EXACT_CHUNK = 8192


class IdSubset:
    """Ids a search is limited to (ascending), with the FAISS selector made on first use, so a
    subset searched again (the same filter, the next question) does not rebuild it."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = np.ascontiguousarray(ids, dtype=np.int64)
        self._selector = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def selector(self):
        if self._selector is None:
            import faiss

            self._selector = faiss.IDSelectorBatch(self.ids)
        return self._selector


_this_thread = threading.local()


def _one_search_thread() -> None:
    """One FAISS thread per search: its thread pool costs more than it saves on one query
    (docs/PERFORMANCE.md). OpenMP keeps the setting per thread, so it is set once in every thread
    that searches (a server searches from its worker threads). A batch job that searches many
    vectors at once may raise it again in its own thread afterwards."""
    if getattr(_this_thread, "faiss_threads_set", False):
        return
    import faiss

    faiss.omp_set_num_threads(1)
    _this_thread.faiss_threads_set = True


def faiss_version() -> str:
    import faiss

    return faiss.__version__


def lists_for(count: int) -> int:
    """IVF list count: about 4·√n, the usual rule, measured in benchmarks/bench_vectors.py."""
    return max(16, int(4 * math.sqrt(count)))


def probes_for(lists: int) -> int:
    """Lists searched per query. At 1M vectors (4,000 lists) 32 probes gave recall@10 0.982 against
    exact search and 16 gave 0.961 (benchmarks/bench_vectors.py, real SciFact questions)."""
    return max(16, lists // 125)


class VectorIndex:
    """Add, search and reconstruct vectors by id, exact or approximate."""

    def __init__(self, index) -> None:
        self._index = index
        self._configure()

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        """Read an index, memory-mapped where FAISS can (IVF), else read into memory."""
        import faiss

        try:
            return cls(faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY))
        except RuntimeError as error:  # a flat index cannot be memory-mapped
            logger.debug("%s cannot be memory-mapped (%s); reading it into memory", path, error)
            return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @property
    def is_approximate(self) -> bool:
        import faiss

        return isinstance(self._index, faiss.IndexIVF)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def _configure(self) -> None:
        import faiss

        if isinstance(self._index, faiss.IndexIVF):
            self._index.nprobe = probes_for(self._index.nlist)
            if self._index.direct_map.type != faiss.DirectMap.Hashtable:
                self._index.set_direct_map_type(faiss.DirectMap.Hashtable)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; missing slots have id -1."""
        _one_search_thread()
        k = max(1, min(k, len(self)))
        return self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def search_among(self, queries: np.ndarray, k: int, subset: IdSubset) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query among `subset` only. The filter acts inside the search
        (a FAISS IDSelector), not after it, so k come back whenever the subset holds k vectors.

        Small subsets, and subsets an IVF probe would mostly miss, are scored exactly instead.
        """
        import faiss

        _one_search_thread()
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(k, len(subset)))
        if len(subset) <= EXACT_SUBSET or (
            self.is_approximate and len(subset) * self._index.nprobe / self._index.nlist < 4 * k
        ):
            return self._exact_among(queries, k, subset.ids)
        if self.is_approximate:
            params = faiss.SearchParametersIVF(sel=subset.selector, nprobe=self._index.nprobe)
        else:
            params = faiss.SearchParameters(sel=subset.selector)
        return self._index.search(queries, k, params=params)

    def _exact_among(self, queries: np.ndarray, k: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
        best_ids = np.zeros((len(queries), 0), dtype=np.int64)
        for begin in range(0, len(ids), EXACT_CHUNK):
            chunk = ids[begin : begin + EXACT_CHUNK]
            scores = np.concatenate([best_scores, queries @ self.vectors(chunk).T], axis=1)
            candidates = np.concatenate([best_ids, np.broadcast_to(chunk, (len(queries), len(chunk)))], axis=1)
            top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            best_scores = np.take_along_axis(scores, top, axis=1)
            best_ids = np.take_along_axis(candidates, top, axis=1)
        return best_scores, best_ids

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of these ids (to score candidates found by other means)."""
        ids = np.asarray(ids, dtype=np.int64)
        if not len(ids):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._index.reconstruct_batch(ids)

    def flat_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(ids, vectors) of an exact index as views of its own storage, without copying."""
        import faiss

        flat = faiss.downcast_index(self._index.index)
        count = len(self)
        ids = faiss.rev_swig_ptr(self._index.id_map.data(), count) if count else np.zeros(0, dtype=np.int64)
        matrix = faiss.rev_swig_ptr(flat.get_xb(), count * self.dimension) if count else np.zeros(0, np.float32)
        return np.asarray(ids, dtype=np.int64), np.asarray(matrix, dtype=np.float32).reshape(count, self.dimension)

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, vector) pair, for rebuilding the index in another form."""
        import faiss

        if self.is_approximate:
            invlists = self._index.invlists
            ids = np.concatenate(
                [
                    faiss.rev_swig_ptr(invlists.get_ids(i), invlists.list_size(i)).copy()
                    for i in range(self._index.nlist)
                ]
                or [np.zeros(0, dtype=np.int64)]
            )
        else:
            ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
        return ids, self.vectors(ids)

    def resized(self, approximate_above: int = APPROXIMATE_ABOVE) -> VectorIndex:
        """This index in the form its size calls for: exact while small, IVF once large."""
        count = len(self)
        if self.is_approximate or count <= approximate_above:
            return self
        import faiss

        ids, vectors = self.all_vectors()
        lists = lists_for(count)
        ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(self.dimension), self.dimension, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(count, min(count, lists * TRAINING_POINTS_PER_LIST), replace=False)
        ivf.train(vectors[np.sort(sample)])
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
        ivf.add_with_ids(vectors, ids)
        return VectorIndex(ivf)
