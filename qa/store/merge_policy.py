"""Which segments to merge after a commit: a policy apart from the writer (as tantivy keeps its
`MergePolicy` trait apart from its `IndexWriter`), so a benchmark or a special index can choose
another one without touching how merges are written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from qa.store.manifest import SegmentInfo


class MergePolicy(Protocol):
    def next_merge(self, segments: list[SegmentInfo]) -> list[SegmentInfo]:
        """The segments to merge into one next (at least two), or [] when none should be.
        The writer asks again after each merge, with the merged segment in place."""
        ...


@dataclass(frozen=True)
class TieredMergePolicy:
    """Size-tiered merging: segments whose live passage counts share a power of `factor` form a
    tier; a tier of `factor` segments is merged into one. A segment with more than
    `max_deleted_share` of its passages deleted joins the next merge of its tier or a higher one."""

    factor: int = 10
    max_deleted_share: float = 0.5
    # No merge makes a segment larger than this: a merge holds its segments' rows in memory, and
    # an update never waits for a merge of the whole index (as Lucene caps a merged segment's
    # size). A 10M-passage index is then five or more segments; `qa index --compact` still makes one.
    max_segment_passages: int = 2_000_000

    def next_merge(self, segments: list[SegmentInfo]) -> list[SegmentInfo]:
        tiers: dict[int, list[SegmentInfo]] = {}
        for info in segments:
            tiers.setdefault(self._tier(info.live_passages), []).append(info)
        for tier in sorted(tiers):
            if len(tiers[tier]) < self.factor:
                continue
            group = self._within_cap(tiers[tier][: self.factor])
            if len(group) < 2:
                continue  # a full tier of segments too large to merge: they stay as they are
            extra = [
                s for s in segments if s not in group and self._mostly_deleted(s) and self._tier(s.passages) <= tier
            ]
            return self._within_cap(group + extra)
        return []

    def _within_cap(self, candidates: list[SegmentInfo]) -> list[SegmentInfo]:
        """The longest run of `candidates` whose live passages together stay within the cap."""
        group, total = [], 0
        for info in candidates:
            if total + info.live_passages > self.max_segment_passages:
                break
            group.append(info)
            total += info.live_passages
        return group

    def _tier(self, passages: int) -> int:
        return int(math.log(max(1, passages), self.factor))

    def _mostly_deleted(self, info: SegmentInfo) -> bool:
        return info.passages > 0 and info.deleted_passages / info.passages > self.max_deleted_share


DEFAULT_MERGE_POLICY = TieredMergePolicy()
