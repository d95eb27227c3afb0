"""Words left broken at a PDF's line breaks ("iden- tifier") and names broken after an underscore
("ASN1_TAG_ ERROR") in the text qa stores for each PDF given.

    python benchmarks/results/session-2026-12-05g/pdf_broken_words.py FILE.pdf ...
"""

import re
import sys
from pathlib import Path


def main() -> None:
    from qa.ingest.documents import parse_file

    for name in sys.argv[1:]:
        text = parse_file(Path(name)).text
        broken = re.findall(r"[^\W\d_]- [a-z]\w*", text)
        names = re.findall(r"\w_ \w", text)
        print(f"{Path(name).name}: {len(text)} chars; broken words {len(broken)} {broken[:6]}; names {len(names)}")


if __name__ == "__main__":
    main()
