"""Throwaway: does the weakest word's reading add to the six signals?"""

import json
import sys

import numpy as np

from benchmarks import calibrate as C
from qa.search.confidence import READING, WITHOUT_READING, Model

pub = json.load(open(C.SIGNALS_FILE))["rows"]
docs = json.load(open(C.DOCS_FILE))["rows"]
pm = json.load(open("benchmarks/results/session-2026-12-06f/pairs_public.json"))
dm = json.load(open("benchmarks/results/session-2026-12-06f/pairs_docs.json"))
CUT = float(sys.argv[1]) if len(sys.argv) > 1 else 0.35


def derive(row, m):
    for k in ("p1", "p3", "p10", "p20"):
        row[k] = m[k]
    row["unseen"] = float(m["p10"] < 1.0 and m["n"] > 0)
    row["nbi"] = min(m["n"], 4) / 4


for r in pub:
    derive(r, pm[f"{r['source']}\t{r['id']}"])
for r in docs:
    derive(r, dm[f"{r['source']}\t{r['id']}"])
# sanity: our mean equals the stored reading


fit_rows = [r for r in pub if r["half"] == "fit"]
report = [r for r in pub if r["half"] == "report" and r["source"] != C.WITHHELD]
wreport = [r for r in pub if r["half"] == "report" and r["source"] == C.WITHHELD]
y = np.array([r["answerable"] for r in fit_rows])


def fitted(names):
    x = C.features(fit_rows, names)
    b, w = C.fit_raw(x, y, weights=np.ones(len(fit_rows)))
    t = C.operating_point(C.predict(b, w, x), y, C.FIT_ANSWERABLE_ABSTAINED)
    return Model(names, b, tuple(w.tolist()), t)


def verdicts(rows, five, big):
    return C.cascade(rows, five, big) >= 0


def judge(label, five, big):
    cells = []
    for name, rows in [("report", report), ("withheld", wreport)] + [
        (s, [r for r in docs if r["source"] == s]) for s in C.DOC_SETS
    ]:
        yy = np.array([r["answerable"] for r in rows])
        a = verdicts(rows, five, big)
        if name == "report":
            cells.append(f"{(~a[yy]).mean():.4f}/{a[~yy].mean():.4f}")
        elif name == "withheld":
            cells.append(f"{a.mean():.3f}")
        else:
            cells.append(f"{(~a[~yy]).sum()}/{(~yy).sum()},{(~a[yy]).sum()}/{yy.sum()}")
    tot_u = sum(int(c.split(",")[0].split("/")[0]) for c in cells[2:])
    tot_a = sum(int(c.split(",")[1].split("/")[0]) for c in cells[2:])
    print(f"{label:44s}", " | ".join(cells), f"| docs unans abst {tot_u}/29 ans abst {tot_a}/259")
    return


five = fitted(C.FIVE)
print("five", five)
judge("shipped", WITHOUT_READING, READING)
judge("refit six", five, fitted(C.SIGNALS))
for extra in (("p3",), ("p10",)):
    f5 = fitted(C.FIVE + extra)
    print("  five+", extra, np.round(f5.weights, 3), round(f5.threshold, 3))
    judge("five+six + " + "+".join(extra), f5, fitted(C.SIGNALS + extra))
for extra in (("p1",), ("p3",), ("p10",), ("p20",), ("unseen",), ("p10", "nbi")):
    m = fitted(C.SIGNALS + extra)
    print("  ", extra, np.round(m.weights, 3), round(m.threshold, 3))
    judge("six + " + "+".join(extra), five, m)
