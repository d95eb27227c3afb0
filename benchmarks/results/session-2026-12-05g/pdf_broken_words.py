"""Throwaway: words left broken at a PDF line break ("iden- tifier") in the stored text."""
import re, sys
from pathlib import Path


def main():
    from qa.ingest.documents import parse_file
    for f in sys.argv[1:]:
        text = parse_file(Path(f)).text
        broken = re.findall(r"[^\W\d_]- [a-z]\w*", text)
        under = re.findall(r"\w_ \w", text)
        print(Path(f).name, len(text), "chars; broken words:", len(broken), broken[:6], "; names broken after _:", len(under))


if __name__ == "__main__":
    main()
