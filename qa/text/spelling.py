"""Other spellings of a question's words, so that a question asked in one finds documents written
in the other: British and American ("What licence is SQLite released under?" of pages that say
"license"), and a hyphenated word closed up ("auto-incrementing" of pages that say "AUTOINCREMENT").

Only the search terms change, and only where the documents lack the question's own spelling and hold
the other (`respell`): a corpus that uses the question's words is searched exactly as before. The
pairs are whole words, not rules, because the rules misfire ("-our" → "-or" would make "four" "for").

`misspelling_distance` says how far a name may be from the documents' spelling of it and still be
taken for it ("Gospic" for "Gospić", "Karistadt" for "Karlstadt"), so that a typo is not taken for a
thing the documents never mention (qa.search.confidence).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from functools import cache

from qa.text.analysis import analyze

# British, American. Common words and those of software documentation; each is stemmed by the one
# analyser, so "licences", "licensed" and "licence" all meet "license".
_PAIRS = """
analyse analyze, analysed analyzed, analysing analyzing, apologise apologize, armour armor, authorise authorize,
behaviour behavior, behaviours behaviors, calibre caliber, cancelled canceled, cancelling canceling,
catalogue catalog, catalogues catalogs, categorise categorize, centre center, centres centers, centred centered,
characterise characterize, cheque check, civilise civilize, colour color, colours colors, coloured colored,
criticise criticize, customise customize, customised customized, defence defense, dialogue dialog,
emphasise emphasize, endeavour endeavor, enrol enroll, favour favor, favourite favorite, fibre fiber,
finalise finalize, flavour flavor, fulfil fulfill, grey gray, harbour harbor, honour honor, humour humor,
initialise initialize, initialised initialized, initialisation initialization, jewellery jewelry,
labelled labeled, labelling labeling, labour labor, licence license, licences licenses, litre liter,
localise localize, localisation localization, manoeuvre maneuver, maximise maximize, memorise memorize,
metre meter, minimise minimize, modelled modeled, modelling modeling, neighbour neighbor, normalise normalize,
normalisation normalization, offence offense, optimise optimize, optimised optimized, optimisation optimization,
organise organize, organisation organization, organised organized, parametrise parametrize, prioritise prioritize,
programme program, realise realize, recognise recognize, rumour rumor, sanitise sanitize, serialise serialize,
serialisation serialization, specialise specialize, standardise standardize, summarise summarize,
synchronise synchronize, synchronisation synchronization, theatre theater, travelled traveled,
travelling traveling, tumour tumor, utilise utilize, visualise visualize, visualisation visualization
"""


def misspelling_distance(term: str) -> int:
    """The edits a search term may be from the documents' spelling of it and be taken for that
    spelling: one, or two in terms of eight characters or more. Read off SQuAD's and SciFact's
    answerable questions, whose typos and accents left out are one edit (two in long names), and
    four documentation sets, where a product no page mentions is farther than that from every term
    (docs/EVALUATION.md, "A name the documents never mention")."""
    return 1 if len(term) <= 7 else 2


@cache
def _variants() -> dict[str, str]:
    """Each spelling's search term → the other spelling's, where the two differ once stemmed."""
    variants: dict[str, str] = {}
    for pair in _PAIRS.split(","):
        british, american = pair.split()
        (one,), (other,) = analyze(british), analyze(american)
        if one != other:
            variants[one], variants[other] = other, one
    return variants


def respell(terms: Sequence[str], held: Callable[[Sequence[str]], Collection[str]]) -> dict[str, str]:
    """For each of the question's `terms` the documents lack but hold in the other spelling, that
    spelling: {term as asked: term to search}. `held(terms)` says which terms the documents hold."""
    variants = _variants()
    asked = [term for term in dict.fromkeys(terms) if term in variants]
    if not asked:
        return {}
    have = held([*asked, *(variants[term] for term in asked)])
    return {term: variants[term] for term in asked if term not in have and variants[term] in have}


_HYPHENATED = re.compile(r"(?u)\b\w+(?:-\w+)+\b")


def closed_up(
    question: str, terms: Sequence[str], held: Callable[[Sequence[str]], Collection[str]]
) -> dict[str, list[str]]:
    """The question's hyphenated words closed up ("e-mail" -> "email", "auto-incrementing" ->
    "autoincrementing"), as search terms the documents hold and the question's `terms` lack, each
    with the terms of its parts (which the analyser splits the word into, and which are searched
    too): {closed-up term: the parts' terms}."""
    found: dict[str, list[str]] = {}
    for word in _HYPHENATED.findall(question):
        if not any(ch.isalpha() for ch in word):  # a score or a range ("13-0", "1-5"), not a word
            continue
        joined = analyze(word.replace("-", ""))
        if len(joined) == 1 and joined[0] not in terms:
            found.setdefault(joined[0], [term for part in word.split("-") for term in analyze(part)])
    have = held(list(found)) if found else ()
    return {term: parts for term, parts in found.items() if term in have}
