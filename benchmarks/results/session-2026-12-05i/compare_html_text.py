"""The text of every HTML page under some folders, as one checkout's reader reads it, to a JSON file;
run it for two checkouts and compare the files to see which pages a reader's change touched.

    python compare_html_text.py CHECKOUT OUT.json FOLDER...
"""

import glob
import json
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from qa.ingest.readers.html import html_blocks  # noqa: E402

texts = {}
for root in sys.argv[3:]:
    for page in sorted(glob.glob(root + "/**/*.htm*", recursive=True)):
        try:
            texts[page] = html_blocks(Path(page).read_bytes())[2]
        except Exception as error:  # a page one version cannot read is a difference too
            texts[page] = f"ERROR {error}"
json.dump(texts, open(sys.argv[2], "w"))
