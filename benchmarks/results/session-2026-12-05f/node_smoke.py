"""A smoke check of the no-prose penalty and the overview bonus on a corpus no choice was made on:
the Node.js API reference in Markdown (Debian's nodejs-doc, /usr/share/doc/nodejs/api/*.md, 64 files,
7,822 passages), 15 questions written for this check, each asked with both rules and with neither;
the first passage of each is printed once where they agree, twice where they differ.

    qa index /tmp/node/md --index /tmp/node/i.qa   # a copy of the .md files
    python benchmarks/results/session-2026-12-05f/node_smoke.py [INDEX]
"""

import sys

from qa.collection import Collection
from qa.search.retrieval import RetrievalSettings

INDEX = sys.argv[1] if len(sys.argv) > 1 else "/tmp/node/i.qa"
qs = [
    "How do I read a file line by line?",
    "What is a Buffer?",
    "What does process.nextTick do?",
    "How can I create an HTTP server?",
    "How do I spawn a child process?",
    "What does fs.watch do?",
    "How do I hash a string with SHA-256?",
    "What is a worker thread?",
    "What is the event loop?",
    "How do I parse command line arguments?",
    "What is an EventEmitter?",
    "How do I make a directory recursively?",
    "What are streams?",
    "How do I read environment variables?",
    "What is the REPL?",
]
on = Collection.open(INDEX)
off = Collection.open(INDEX, settings=RetrievalSettings(no_prose_penalty=0.0, overview_bonus=0.0))
for q in qs:
    a, b = on.ask(q, top_k=1).passages[0], off.ask(q, top_k=1).passages[0]
    mark = "  " if (a.citation.source, a.citation.start) == (b.citation.source, b.citation.start) else "≠ "
    print(mark + q)
    for name, p in (("on ", a), ("off", b)):
        if mark == "  " and name == "off":
            continue
        section = " > ".join(p.citation.section)[-60:]
        highlight = p.text[p.highlight.start : p.highlight.end][:100]
        print(f"    {name} {p.citation.source} {section} | {highlight!r}")
