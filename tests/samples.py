"""Sample texts made from seeds/, shared by tests and the encoder benchmark."""

from __future__ import annotations

from pathlib import Path

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_passages(count: int, words_per_passage: int = 160) -> list[str]:
    """~200-token passages from seeds/*.txt (consecutive paragraphs up to a word budget), cycled to `count`."""
    passages = []
    for path in sorted(SEEDS.glob("*.txt")):
        current: list[str] = []
        for paragraph in path.read_text().split("\n\n"):
            current.extend(paragraph.split())
            if len(current) >= words_per_passage:
                passages.append(" ".join(current[:words_per_passage]))
                current = []
    if not passages:
        raise SystemExit(f"no passages: {SEEDS} holds no long enough .txt files")
    return [passages[i % len(passages)] for i in range(count)]
