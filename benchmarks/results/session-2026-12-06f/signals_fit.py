"""Throwaway (2026-12-06, sixth session): do the candidate signals of signals_collect.py add to
the shipped ones? Each is refitted beside them on the public fit half, as
`python -m benchmarks.calibrate fit` fits, and judged as answering judges (`calibrate.cascade`):
the public report half (answerable abstained / unanswerable answered), the withheld-paragraph
questions' report half (answered), and each documentation set (unanswerable abstained, answerable
abstained).

    python signals_fit.py weakest|pairs   # from the repository root, PYTHONPATH=.
"""

import json
import sys
from pathlib import Path

import numpy as np

from benchmarks import calibrate as C
from qa.search.confidence import READING, WITHOUT_READING, Model

HERE = Path(__file__).parent
SIGNAL = sys.argv[1]
public = json.loads(C.SIGNALS_FILE.read_text())["rows"]
docs = json.loads(C.DOCS_FILE.read_text())["rows"]
measured = {**json.loads((HERE / f"{SIGNAL}_public.json").read_text())}
measured_docs = json.loads((HERE / f"{SIGNAL}_docs.json").read_text())


def derive(row: dict, m: dict) -> None:
    if SIGNAL == "weakest":
        v = sorted(m["max"]) or [0.0]
        row.update(weakest=v[0], weak2=float(np.mean(v[:2])), low=float(np.mean([x < 0.35 for x in v])))
    else:
        row.update({k: m[k] for k in ("p1", "p3", "p10", "p20")}, nbi=min(m["n"], 4) / 4)


for row in public:
    derive(row, measured[f"{row['source']}\t{row['id']}"])
for row in docs:
    derive(row, measured_docs[f"{row['source']}\t{row['id']}"])
fit_rows = [r for r in public if r["half"] == "fit"]
judged = [
    ("report", [r for r in public if r["half"] == "report" and r["source"] != C.WITHHELD]),
    ("withheld", [r for r in public if r["half"] == "report" and r["source"] == C.WITHHELD]),
    *[(name, [r for r in docs if r["source"] == name]) for name in C.DOC_SETS],
]


def fitted(names) -> Model:
    (model,) = C.fit_models(fit_rows, np.ones(len(fit_rows)), (names,))
    return model


def judge(label: str, five: Model, six: Model, every_question_read: bool = False) -> None:
    cells, unanswerable, answerable = [], 0, 0
    for name, rows in judged:
        yy = np.array([r["answerable"] for r in rows])
        if every_question_read:
            answered = np.array([six.probability([r[s] for s in six.signals]) >= six.threshold for r in rows])
        else:
            answered = C.cascade(rows, five, six) >= 0
        if name == "report":
            cells.append(f"{(~answered[yy]).mean():.4f}/{answered[~yy].mean():.4f}")
        elif name == "withheld":
            cells.append(f"{answered.mean():.3f}")
        else:
            u, a = int((~answered[~yy]).sum()), int((~answered[yy]).sum())
            unanswerable, answerable = unanswerable + u, answerable + a
            cells.append(f"{u}/{(~yy).sum()},{a}/{yy.sum()}")
    print(f"{label:44s}", " | ".join(cells), f"| docs unans abst {unanswerable}/29 ans abst {answerable}/259")


five = fitted(C.FIVE)
judge("shipped", WITHOUT_READING, READING)
judge("refit six", five, fitted(C.SIGNALS))
extras = (
    [("weakest",), ("weak2",), ("low",), ("weakest", "low")]
    if SIGNAL == "weakest"
    else [("p1",), ("p3",), ("p10",), ("p20",), ("p10", "nbi")]
)
for extra in extras:
    model = fitted(C.SIGNALS + extra)
    print("  ", extra, np.round(model.weights, 3), round(model.threshold, 3))
    judge("six + " + "+".join(extra), five, model)
    if SIGNAL == "pairs" and len(extra) == 1 and extra[0] in ("p3", "p10"):
        five_and = fitted(C.FIVE + extra)
        judge("five and six, each + " + extra[0], five_and, fitted(C.SIGNALS + extra))
if SIGNAL == "weakest":
    print("--- every question read")
    judge("six, all read", five, fitted(C.SIGNALS), every_question_read=True)
    for extra in (("weakest",), ("low",)):
        judge("six + " + "+".join(extra) + ", all read", five, fitted(C.SIGNALS + extra), every_question_read=True)
