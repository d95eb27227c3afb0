"""What the shared checks of every documentation set do not check of this one
(`tests/test_evaluation_datasets.py` checks the keys and ids of `questions.jsonl`, and each answer
string in its sentence and in every document named), as qa's readers read the documents: the PDFs
of `corpus/` through the PDF reader, the pages of `html-twin/` through the HTML reader, each as
`qa index` reads it (`qa.ingest.documents.parse_file`):

- each answer string is in each document named exactly, case and spacing as the reader gives
  them (the shared check normalises both, as the evaluation does);
- no answer string is found in a document outside `docs` (normalised as the evaluation matches);
- the key words of each unanswerable question occur in no document, PDF or HTML (case ignored;
  broader words that do occur are listed in the README, with what they turned up);
- `questions-mime-html.jsonl` asks the MIME specification's questions of its HTML twin: every
  question of `questions.jsonl` answered from the specification's PDF is in it, with the same id,
  question and answers, and every question in it is one of `questions.jsonl`'s; its answer
  sentences are in the first page named, and each answer string is in its sentence;
- `questions-mime-xml.jsonl` asks the same questions of its DocBook source (`xml-twin/`, read by
  the DocBook reader): the HTML twin's ids and questions, and its answers but where
  `XML_ANSWERS` says why one differs; its sentences and answer strings in the file as above;
- `corpus/` is flat, PDF only, and under 5 MB; `html-twin/` is flat and HTML only; `xml-twin/`
  holds the compressed DocBook file only.

Run from the repository root: `python benchmarks/sets/pdf-docs/check.py`. Prints one line, OK
with the counts, or the problems found. Reads the documents only: no model, no index.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))  # the repository root, for qa's readers

from qa.evaluation.metrics import normalize_for_match  # noqa: E402
from qa.ingest.documents import parse_file  # noqa: E402

CORPUS = HERE / "corpus"
TWIN = HERE / "html-twin"
QUESTIONS = HERE / "questions.jsonl"
TWIN_QUESTIONS = HERE / "questions-mime-html.jsonl"
XML_TWIN = HERE / "xml-twin"
XML_QUESTIONS = HERE / "questions-mime-xml.jsonl"
# Answers of the DocBook twin that differ from the HTML twin's, and why.
XML_ANSWERS = {
    "mime-user-correction": "the HTML's stylesheet printed the cross-reference as its number (Section 2.1); "
    "the source holds only its target, read as that section's title",
}
SPEC_PDF = "shared-mime-info-spec.pdf"
MAX_CORPUS_BYTES = 5 * 1024 * 1024

# Words that would have to be in a document for it to answer the unanswerable question.
UNANSWERABLE_KEYWORDS = {
    "none-ber-in-python": ["python", "pyasn1"],
    "none-pem-certificate": ["pem", "base64", "begin certificate"],
    "none-verify-signature": ["signature", "verif", "openssl", "public key"],
    "none-json-output": ["json"],
    "none-windows-registry": ["registry", "hkey", "regedit"],
    "none-thumbnailer": ["thumbnail"],
    "none-markdown-type": ["markdown", ".md"],
    "none-macos-uti": ["uniform type", "macos", "mac os", "apple"],
}


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_folder(folder: Path, suffix: str, problems: list[str]) -> dict[str, str]:
    """{file name: text as qa reads it} of a flat folder of `suffix` files."""
    files = sorted(folder.iterdir())
    problems += [
        f"{folder.name}/{file.name}: not a {suffix} file"
        for file in files
        if not file.is_file() or file.suffix != suffix
    ]
    return {file.name: parse_file(file).text for file in files if file.is_file() and file.suffix == suffix}


def check_answers(records: list[dict], raw: dict[str, str], label: str) -> list[str]:
    """Each answer string in each document named, as written, and in no other document; the
    answer sentence in the first document named, each answer string in it."""
    problems: list[str] = []
    texts = {name: normalize_for_match(text) for name, text in raw.items()}
    for record in records:
        where = f"{label} {record['id']}"
        if not record["answers"]:
            if record["docs"]:
                problems.append(f"{where}: no answers but docs {record['docs']}")
            continue
        unknown = [doc for doc in record["docs"] if doc not in raw]
        if unknown or not record["docs"]:
            problems.append(f"{where}: docs {record['docs']} not all in the folder")
            continue
        sentence = normalize_for_match(record["answer_sentence"])
        if sentence not in texts[record["docs"][0]]:
            problems.append(f"{where}: answer sentence not in {record['docs'][0]}")
        for answer in record["answers"]:
            needle = normalize_for_match(answer)
            if needle not in sentence:
                problems.append(f"{where}: answer {answer!r} not in its answer sentence")
            problems += [
                f"{where}: answer {answer!r} not in {doc} as written"
                for doc in record["docs"]
                if answer not in raw[doc]
            ]
            elsewhere = [name for name, text in texts.items() if needle in text and name not in record["docs"]]
            if elsewhere:
                problems.append(f"{where}: answer {answer!r} also in {elsewhere}, not in docs")
    return problems


def check_twin(records: list[dict], twin: list[dict]) -> list[str]:
    """The twin asks every question answered from the specification's PDF, and only questions of
    the PDF set, with the same question and answers."""
    problems: list[str] = []
    by_id = {record["id"]: record for record in records}
    for record in twin:
        original = by_id.get(record["id"])
        if original is None:
            problems.append(f"twin {record['id']}: not a question of questions.jsonl")
        elif (record["question"], record["answers"]) != (original["question"], original["answers"]):
            problems.append(f"twin {record['id']}: question or answers differ from questions.jsonl")
        elif original["answers"] and original["docs"] != [SPEC_PDF]:
            problems.append(f"twin {record['id']}: answered from {original['docs']}, not the specification")
    asked = {record["id"] for record in twin}
    problems += [
        f"twin: {record['id']} missing"
        for record in records
        if record["docs"] == [SPEC_PDF] and record["id"] not in asked
    ]
    return problems


def check_xml_twin(twin: list[dict], xml_twin: list[dict]) -> list[str]:
    """The DocBook twin asks the HTML twin's questions, with its answers but where XML_ANSWERS says."""
    problems: list[str] = []
    if [record["id"] for record in xml_twin] != [record["id"] for record in twin]:
        problems.append("xml twin: not the HTML twin's ids in its order")
    for html, xml in zip(twin, xml_twin):
        if xml["question"] != html["question"]:
            problems.append(f"xml twin {xml['id']}: question differs from the HTML twin's")
        if (xml["answers"] != html["answers"]) != (xml["id"] in XML_ANSWERS):
            problems.append(
                f"xml twin {xml['id']}: answers differ from the HTML twin's without a reason in XML_ANSWERS"
            )
    return problems


def main() -> int:
    problems: list[str] = []
    pdfs = read_folder(CORPUS, ".pdf", problems)
    pages = read_folder(TWIN, ".html", problems)
    sources = read_folder(XML_TWIN, ".gz", problems)
    size = sum(file.stat().st_size for file in CORPUS.iterdir() if file.is_file())
    if size > MAX_CORPUS_BYTES:
        problems.append(f"corpus/ is {size:,} bytes, over {MAX_CORPUS_BYTES:,}")
    records, twin, xml_twin = read_records(QUESTIONS), read_records(TWIN_QUESTIONS), read_records(XML_QUESTIONS)
    for label, items in (("questions.jsonl", records), ("twin", twin), ("xml twin", xml_twin)):
        ids = [record["id"] for record in items]
        problems += [f"{label}: id {id_!r} repeated" for id_ in sorted({i for i in ids if ids.count(i) > 1})]
    problems += check_answers(records, pdfs, "pdf")
    problems += check_answers(twin, pages, "twin")
    problems += check_twin(records, twin)
    problems += check_answers(xml_twin, sources, "xml twin")
    problems += check_xml_twin(twin, xml_twin)
    everything = {name: normalize_for_match(text) for name, text in {**pdfs, **pages, **sources}.items()}
    for record in records:
        if record["answers"]:
            continue
        words = UNANSWERABLE_KEYWORDS.get(record["id"])
        if not words:
            problems.append(f"{record['id']}: no key words listed to search for")
        for word in words or []:
            found = [name for name, text in everything.items() if word.lower() in text]
            if found:
                problems.append(f"{record['id']}: key word {word!r} found in {found}")
    if problems:
        print(f"{len(problems)} problem(s):")
        for problem in problems:
            print("  " + problem)
        return 1
    answerable = [record for record in records if record["answers"]]
    per_doc = ", ".join(f"{sum(record['docs'][0] == name for record in answerable)} on {name}" for name in sorted(pdfs))
    twin_answerable = sum(bool(record["answers"]) for record in twin)
    print(
        f"OK: {len(records)} questions ({len(answerable)} answerable: {per_doc}; "
        f"{len(records) - len(answerable)} unanswerable), {len(pdfs)} PDFs, {size / 1e6:.1f} MB; "
        f"HTML twin: {len(twin)} questions ({twin_answerable} answerable, {len(twin) - twin_answerable} unanswerable), "
        f"{len(pages)} pages; DocBook twin: {len(xml_twin)} questions"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
