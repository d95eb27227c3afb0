"""Inner-product search over L2-normalised vectors, keyed by our own int64 ids.

Three forms, chosen by size when an index is written (`VectorIndex.write`):
- up to `APPROXIMATE_ABOVE` vectors, exact search: the vectors and their ids as two `.npy` files,
  memory-mapped and scored by one matrix product (`ExactIndex`). FAISS is not needed for it, so a
  question on a small index never imports it (docs/PERFORMANCE.md, "Start-up"). Indexes written
  before keep their FAISS flat index (`IndexIDMap2`), which is still read;
- up to `COMPRESS_ABOVE`, an inverted file (IVF-Flat: exact distances within the probed lists),
  memory-mapped when loaded;
- past it, compressed: IVF-PQ codes (48 bytes a vector) find candidates, and their float16
  vectors, memory-mapped from a file beside the index, re-score them exactly. Memory then holds
  the codes, not the vectors: the form that lets 10M passages live on one machine
  (docs/SCALING.md). Writing it streams: the vectors may be a memory-mapped array larger than RAM.
"""

from __future__ import annotations

import logging
import math
import threading
from functools import cache
from pathlib import Path
from typing import Self

import numpy as np

from embeddings.npy import load_mapped, read_header

logger = logging.getLogger(__name__)

APPROXIMATE_ABOVE = 100_000
COMPRESS_ABOVE = 1_000_000
TRAINING_POINTS_PER_LIST = 40
PQ_BYTES = 48  # one byte per 8 of all-MiniLM-L6-v2's 384 dimensions
COMPRESS_AT_LEAST = 1024  # PQ trains 256 centroids per code byte: fewer vectors stay uncompressed
RESCORE_CANDIDATES = 200  # with 32 probes of 4,000 lists at 1M: recall@10 0.981 (docs/SCALING.md)
WRITE_CHUNK = 100_000  # vectors converted and added at a time while writing
IDS_SUFFIX = ".ids.npy"  # beside an index's `.npy` vectors: their ids, ascending (`IdRows`)
RESCORE_SUFFIX = ".f16.npy"  # the compressed form's vectors, in id order
EXACT_SUFFIX = ".f32.npy"  # the exact form's vectors, in id order
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


@cache
def one_blas_thread() -> None:
    """numpy's BLAS computes with one thread in a process that answers questions (called where
    every question is embedded, `qa.collection.Collection.query`). Its products
    there are small (a question against ≤ 100,000 vectors, or 200 candidates), and a pool of two
    threads then fights ONNX Runtime's threads, still spinning on both cores after the encoder's
    call, and the server's question threads for the same cores: `Collection.ask` on SciFact took
    16 ms with BLAS's pool against 7.6 ms with one thread, and the SQLite set's p50 23 ms against
    12 ms (docs/PERFORMANCE.md). Process-wide, as OpenBLAS's setting is; FAISS's own BLAS is left alone
    (its threads are set per thread, above, and its k-means trains large segments)."""
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    blas = [info["filepath"] for info in controller.info() if info["user_api"] == "blas"]
    numpy_blas = [path for path in blas if "numpy" in Path(path).parent.name] or blas
    controller.select(filepath=numpy_blas).limit(limits=1)


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


def pq_bytes(dimension: int) -> int:
    """Bytes of PQ code per vector: one per 8 dimensions (48 for 384), a divisor of the dimension."""
    return max(m for m in range(1, max(1, dimension // 8) + 1) if dimension % m == 0)


class NpyRows:
    """The rows of a 2-D `.npy` file, read with plain reads and never memory-mapped: pages a
    mapping touches count in the process's RSS (with the kernel's read-ahead around each), so
    writing 10M vectors through a mapping would look like 15 GB of memory."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as handle:
            self.shape, fortran, self.dtype = read_header(handle)
            self.offset = handle.tell()
        if fortran or len(self.shape) != 2:
            raise ValueError(f"{path.name}: not a 2-D array in row order")
        self._row_bytes = self.shape[1] * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice | np.ndarray) -> np.ndarray:
        if isinstance(key, slice):
            begin, end, _ = key.indices(len(self))
            count = max(0, end - begin) * self.shape[1]
            rows = np.fromfile(self.path, self.dtype, count, offset=self.offset + begin * self._row_bytes)
            return rows.reshape(-1, self.shape[1])
        wanted = np.asarray(key)  # rows by number: read the chunks that hold them, in file order
        order = np.argsort(wanted, kind="stable")
        found = np.empty((len(wanted), self.shape[1]), dtype=self.dtype)
        for begin in np.unique(wanted // WRITE_CHUNK) * WRITE_CHUNK:
            chunk = self[begin : begin + WRITE_CHUNK]
            inside = order[(wanted[order] >= begin) & (wanted[order] < begin + WRITE_CHUNK)]
            found[inside] = chunk[wanted[inside] - begin]
        return found

    def write(self, begin: int, rows: np.ndarray) -> None:
        with open(self.path, "r+b") as handle:
            handle.seek(self.offset + begin * self._row_bytes)
            handle.write(np.ascontiguousarray(rows, dtype=self.dtype).tobytes())


class IdRows:
    """Vectors as rows in ascending id order beside their ids: two `.npy` files (`PATH.ids.npy` and
    `PATH` + `suffix`), memory-mapped. The compressed form keeps its float16 vectors so, to re-score
    candidates (`Rescoring`); the exact form keeps its float32 vectors so and searches them
    (`ExactIndex`)."""

    suffix = ""  # the rows' file beside PATH
    dtype: type = np.float32  # the rows' type on disk

    def __init__(self, ids: np.ndarray, rows: np.ndarray, files: tuple[Path, ...] = ()) -> None:
        self.ids, self.rows, self.files = ids, rows, files

    @classmethod
    def paths(cls, path: Path) -> tuple[Path, Path]:
        return path.with_name(path.name + IDS_SUFFIX), path.with_name(path.name + cls.suffix)

    @classmethod
    def exists(cls, path: Path) -> bool:
        return all(file.exists() for file in cls.paths(path))

    @classmethod
    def write(cls, path: Path, ids: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, NpyRows]:
        """Write the rows in id order a chunk at a time with plain writes (never through a mapping,
        whose pages would count as this process's memory); the ids in that order, and the rows to
        read them back."""
        ids = np.asarray(ids, dtype=np.int64)
        order = None if len(ids) < 2 or np.all(np.diff(ids) > 0) else np.argsort(ids, kind="stable")
        ids_file, rows_file = cls.paths(path)
        header = np.lib.format.open_memmap(rows_file, mode="w+", dtype=cls.dtype, shape=tuple(vectors.shape))
        del header  # the file, sized, with its header: the rows are written with plain writes
        rows = NpyRows(rows_file)
        for begin in range(0, len(ids), WRITE_CHUNK):
            positions = slice(begin, begin + WRITE_CHUNK) if order is None else order[begin : begin + WRITE_CHUNK]
            rows.write(begin, vectors[positions])
        ids = ids if order is None else ids[order]
        np.save(ids_file, ids)
        return ids, rows

    @classmethod
    def load(cls, path: Path) -> Self:
        ids_file, rows_file = cls.paths(path)
        ids, rows = _mapped(ids_file), _mapped(rows_file)
        if rows.ndim != 2 or len(rows) != len(ids):
            raise ValueError(f"{rows_file.name}: {rows.shape} rows for {len(ids)} ids")
        return cls(ids, rows, (ids_file, rows_file))

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The float32 rows of these ids."""
        ids = np.asarray(ids, dtype=np.int64)
        positions = np.searchsorted(self.ids, ids)
        if len(ids) and (positions.max() >= len(self.ids) or np.any(self.ids[positions] != ids)):
            raise RuntimeError("an id asked for is not in this index")
        return np.asarray(self.rows[positions], dtype=np.float32)


class Rescoring(IdRows):
    """The compressed form's own vectors: float16, read only for the candidates a question's codes
    found (and to copy vectors into another segment)."""

    suffix = RESCORE_SUFFIX
    dtype = np.float16


def _mapped(file: Path) -> np.ndarray:
    try:
        return load_mapped(file)
    except ValueError as error:  # shorter than its header says: mapping it would crash later
        raise ValueError(f"{file.name}: {error}") from error


def _top(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k best (scores, ids), best first; ties keep the ids' order, as FAISS does."""
    if scores.shape[1] > k:
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        part.sort(axis=1)  # back to id order, so the stable sort below breaks ties by id
        scores = np.take_along_axis(scores, part, axis=1)
        ids = np.take_along_axis(np.broadcast_to(ids, part.shape[:1] + ids.shape[-1:]), part, axis=1)
    else:
        ids = np.broadcast_to(ids, scores.shape)
    order = np.argsort(-scores, axis=1, kind="stable")
    return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)


class ExactIndex(IdRows):
    """The exact form: float32 rows searched by a matrix product. No FAISS: importing it was 39–54 ms
    of every cold `qa ask`, and numpy's product is the same exact scan (within ~0.15 ms of FAISS's
    over 9,225 vectors right after an encoder call; docs/PERFORMANCE.md)."""

    suffix = EXACT_SUFFIX
    is_approximate = False
    is_compressed = False

    @property
    def dimension(self) -> int:
        return int(self.rows.shape[1])

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        if not len(self):
            return np.full((len(queries), k), -np.inf, np.float32), np.full((len(queries), k), -1, np.int64)
        return _top(np.asarray(queries, dtype=np.float32) @ self.rows.T, self.ids, k)

    def search_among(self, queries: np.ndarray, k: int, subset: IdSubset) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(subset)))
        return _top(np.asarray(queries, dtype=np.float32) @ self.vectors(subset.ids).T, subset.ids, k)

    def flat_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.ids, dtype=np.int64), self.rows


class VectorIndex:
    """Add, search and reconstruct vectors by id: exact, IVF, or compressed with re-scoring."""

    def __init__(self, index, rescoring: Rescoring | None = None, files: tuple[Path, ...] = ()) -> None:
        self._index = index
        self._rescoring = rescoring
        self.files = files  # what `load` mapped or read, so a segment can tell when one changes
        self._configure()

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        import faiss

        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def write(
        cls,
        path: Path,
        ids: np.ndarray,
        vectors: np.ndarray,
        approximate_above: int | None = None,
        compress_above: int | None = None,
    ) -> None:
        """Write the index of these vectors (rows aligned with `ids`) in the form its size calls
        for (the sizes default to the module's, read at each call). `vectors` may be
        memory-mapped and of any float type: it is read a chunk at a time, so writing a compressed
        index needs memory for its codes, not for the vectors."""
        ids = np.asarray(ids, dtype=np.int64)
        approximate_above = APPROXIMATE_ABOVE if approximate_above is None else approximate_above
        if len(ids) > max(COMPRESS_AT_LEAST - 1, COMPRESS_ABOVE if compress_above is None else compress_above):
            _write_compressed(path, ids, vectors)
        elif len(ids) > approximate_above:
            import faiss

            index = _trained_ivf(vectors)
            _add_in_chunks(index, ids, vectors)
            faiss.write_index(index, str(path))
        else:
            ExactIndex.write(path, ids, vectors)

    @classmethod
    def load(cls, path: Path) -> VectorIndex | ExactIndex:
        """Read an index, memory-mapped where FAISS can (IVF), else read into memory. The
        compressed form's codes are read into memory (small, and FAISS scans memory-mapped lists
        15-25 times slower: 2-3 ms against 0.13 ms for 25,000 codes); its vectors are mapped. The
        exact form is two mapped `.npy` files, read without FAISS."""
        if ExactIndex.exists(path):
            return ExactIndex.load(path)
        import faiss

        if Rescoring.exists(path):
            rescoring = Rescoring.load(path)
            return cls(faiss.read_index(str(path)), rescoring, (path, *rescoring.files))
        try:
            index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
        except RuntimeError as error:  # a flat index cannot be memory-mapped
            logger.debug("%s cannot be memory-mapped (%s); reading it into memory", path, error)
            return cls(faiss.read_index(str(path)), files=(path,))
        return cls(index, files=(path,))

    def save(self, path: Path) -> None:
        """Write an index built in memory (`empty`, `resized`); segments are written by `write`,
        which alone makes the compressed form and its vectors' files."""
        import faiss

        if self._rescoring is not None:
            raise ValueError("a compressed index is written by VectorIndex.write, with its vectors")
        faiss.write_index(self._index, str(path))

    @property
    def is_approximate(self) -> bool:
        import faiss

        return isinstance(self._index, faiss.IndexIVF)

    @property
    def is_compressed(self) -> bool:
        return self._rescoring is not None

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def _configure(self) -> None:
        import faiss

        if isinstance(self._index, faiss.IndexIVF):
            self._index.nprobe = probes_for(self._index.nlist)
            compressed = self._rescoring is not None  # reconstructs from its own vectors, by position
            if not compressed and self._index.direct_map.type != faiss.DirectMap.Hashtable:
                self._index.set_direct_map_type(faiss.DirectMap.Hashtable)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if self._rescoring is not None:
            raise ValueError("a compressed index is written whole (VectorIndex.write), not added to")
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query; missing slots have id -1."""
        _one_search_thread()
        k = max(1, min(k, len(self)))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if self._rescoring is None:
            return self._index.search(queries, k)
        _, candidates = self._index.search(queries, max(k, RESCORE_CANDIDATES))
        return self._rescored(queries, candidates, k)

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
        if not self.is_approximate:
            return self._index.search(queries, k, params=faiss.SearchParameters(sel=subset.selector))
        params = faiss.SearchParametersIVF(sel=subset.selector, nprobe=self._index.nprobe)
        if self._rescoring is None:
            return self._index.search(queries, k, params=params)
        _, candidates = self._index.search(queries, max(k, RESCORE_CANDIDATES), params=params)
        return self._rescored(queries, candidates, k)

    def _rescored(self, queries: np.ndarray, candidates: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The top k of each query's candidates by exact inner product with their stored vectors."""
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        for row, (query, found) in enumerate(zip(queries, candidates)):
            found = np.unique(found[found >= 0])  # ascending: the rows are read in file order
            exact = self._rescoring.vectors(found) @ query
            top = np.argsort(-exact, kind="stable")[:k]
            scores[row, : len(top)], ids[row, : len(top)] = exact[top], found[top]
        return scores, ids

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
        if self._rescoring is not None:
            return self._rescoring.vectors(ids)
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

        if self._rescoring is not None:
            ids = np.array(self._rescoring.ids)
        elif self.is_approximate:
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
        if self.is_approximate or len(self) <= approximate_above:
            return self

        ids, vectors = self.all_vectors()
        ivf = _trained_ivf(vectors)
        _add_in_chunks(ivf, ids, vectors)
        return VectorIndex(ivf)


def _add_in_chunks(index, ids: np.ndarray, vectors: np.ndarray) -> None:
    for begin in range(0, len(ids), WRITE_CHUNK):
        index.add_with_ids(
            np.ascontiguousarray(vectors[begin : begin + WRITE_CHUNK], dtype=np.float32),
            ids[begin : begin + WRITE_CHUNK],
        )


def _trained_ivf(vectors: np.ndarray, code_bytes: int = 0):
    """An empty IVF index (IVF-Flat, or IVF-PQ with `code_bytes`) trained on a sample of
    `vectors`: `TRAINING_POINTS_PER_LIST` per list, read in row order."""
    import faiss

    count, dimension = vectors.shape
    lists = lists_for(count)
    quantizer = faiss.IndexFlatIP(dimension)
    if code_bytes:
        ivf = faiss.IndexIVFPQ(quantizer, dimension, lists, code_bytes, 8, faiss.METRIC_INNER_PRODUCT)
    else:
        ivf = faiss.IndexIVFFlat(quantizer, dimension, lists, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(count, min(count, lists * TRAINING_POINTS_PER_LIST), replace=False)
    ivf.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
    if not code_bytes:
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
    return ivf


def _write_compressed(path: Path, ids: np.ndarray, vectors: np.ndarray) -> None:
    """The compressed form: the vectors as float16 in id order beside the index, then IVF-PQ
    codes trained on a sample and added a chunk at a time from that file."""
    import faiss

    ids, rows = Rescoring.write(path, ids, vectors)
    index = _trained_ivf(rows, code_bytes=pq_bytes(vectors.shape[1]))
    _add_in_chunks(index, ids, rows)
    faiss.write_index(index, str(path))
