from pathlib import Path

import pytest

from qa.ingest.chunking import ChunkingSettings, is_prose, split_passages
from qa.ingest.documents import file_sha256, load_file

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def count_words(texts):
    return [len(text.split()) for text in texts]


def word_spans(texts):
    spans = []
    for text in texts:
        offsets, position = [], 0
        for word in text.split():
            start = text.index(word, position)
            offsets.append((start, start + len(word)))
            position = start + len(word)
        spans.append(offsets)
    return spans


def split(text, max_tokens=40, target=20, overlap=8):
    spans = split_passages(text, count_words, word_spans, max_tokens, ChunkingSettings(target, overlap))
    return [text[span.start : span.end] for span in spans], spans


PROSE = " ".join(f"Sentence number {i} says something quite ordinary about the war." for i in range(12))


def test_offsets_round_trip_and_every_passage_is_within_the_limit():
    text = "Skip to: Content\n\n" + PROSE + "\n\n" + "Short paragraph that still ends like a sentence.\n\nRead Comments"
    passages, spans = split(text)
    assert len(passages) > 2
    for passage, span in zip(passages, spans):
        assert text[span.start : span.end] == passage
        assert len(passage.split()) <= 40


def test_page_furniture_never_stands_alone():
    text = (
        "Skip to: Content\nSkip to: Search\n\nA real paragraph with enough words to be prose, surely.\n\n"
        "Read Comments\n\nView reader comments | Comment on this story"
    )
    passages, _ = split(text, target=200)
    assert passages == ["A real paragraph with enough words to be prose, surely."]


def test_long_paragraph_is_split_by_sentences_with_a_small_overlap():
    passages, spans = split(PROSE, target=25, overlap=12)
    assert len(passages) >= 4
    assert all(p.endswith(".") for p in passages)
    assert any(spans[i + 1].start < spans[i].end for i in range(len(spans) - 1)), "expected overlap"


def test_short_paragraphs_are_packed_together_without_crossing_the_target():
    text = "\n\n".join(f"Paragraph {i} is a short but complete sentence." for i in range(6))
    passages, _ = split(text, target=20)
    assert len(passages) == 3
    assert passages[0].count("Paragraph") == 2


def test_a_paragraph_that_ends_with_a_colon_starts_the_passage_of_what_it_introduces():
    intro = "The Times reports that the latest attempt at peace talks has failed:"
    quoted = "Talks between the two presidents ended on Monday with no sign of a breakthrough."
    text = "\n\n".join([PROSE[:160], intro, quoted, "A closing paragraph follows it here."])
    passages, _ = split(text, target=40, max_tokens=60)
    holding = [p for p in passages if intro in p]
    assert holding and all(quoted in p for p in holding), passages
    assert not any(p.rstrip().endswith(":") for p in passages)


def test_a_colon_paragraph_alone_in_its_passage_stays_where_it_is():
    passages, _ = split("Only this line introduces something:\n\n" + PROSE, target=20)
    assert passages[0].startswith("Only this line introduces something:")


def test_a_sentence_longer_than_the_model_reads_is_cut():
    text = " ".join(["word"] * 100) + "."
    passages, _ = split(text, max_tokens=30, target=20)
    assert all(len(p.split()) <= 30 for p in passages)
    assert sum(len(p.split()) for p in passages) == 100


def test_a_document_of_only_short_lines_is_still_searchable():
    passages, _ = split("Buy milk\nCall Anna")
    assert passages == ["Buy milk\nCall Anna"]


@pytest.mark.parametrize(
    "line,expected",
    [
        ("Skip to: Content", False),
        ("Read Comments", False),
        ("Eight officers appeared in Rome.", True),
        ("Tripoli, Libya", False),
    ],
)
def test_is_prose(line, expected):
    assert is_prose(line) is expected


@pytest.mark.slow
def test_seed_passages_fit_the_real_model_and_round_trip():
    from embeddings import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder()
    for path in sorted(SEEDS.glob("*.txt")):
        document = load_file(path, SEEDS, path.stem, file_sha256(path))
        spans = split_passages(document.text, encoder.count_tokens, encoder.token_spans, encoder.max_tokens - 2)
        texts = [document.text[span.start : span.end] for span in spans]
        assert texts and all(count <= encoder.max_tokens - 2 for count in encoder.count_tokens(texts))
        assert not any(text.strip() in {"Skip to: Content", "Read Comments"} for text in texts)
        assert all("Skip to: Content" not in text for text in texts)


def test_a_one_megabyte_line_is_chunked_like_any_long_paragraph():
    """A document on one line is one long paragraph: passages of whole sentences within the
    limits, overlapping a little, covering the line from its first word to its last. Chunking
    judged the line's prose once per sentence, quadratic in line length (300k characters: 25 s)."""
    sentence = "The ferry to the island leaves at nine and returns at six every day."
    text = " ".join([sentence] * (1_000_000 // (len(sentence) + 1)))
    assert len(text) > 990_000 and "\n" not in text
    passages, spans = split(text, max_tokens=40, target=30, overlap=14)
    assert spans[0].start == 0 and spans[-1].end == len(text)
    assert all(passage == f"{sentence} {sentence}" for passage in passages)
    assert all(spans[i + 1].start < spans[i].end for i in range(len(spans) - 1)), "expected overlap"
