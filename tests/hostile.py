"""Hostile documents, small on disk and made in a test's tmp_path: a DOCX zip bomb and a PDF
whose page tree names a million pages; and hostile readers, for the bounded worker process: one
that never finishes and one that crashes (register them with `qa.ingest.readers.registered`)."""

from __future__ import annotations

import os
import signal
import time
import zipfile
from pathlib import Path

from qa.ingest.readers import ParsedFile, Reader

MIB = 1 << 20


def docx_bomb(path: Path, unpacked_mib: int = 300) -> Path:
    """A well-formed DOCX whose document.xml holds `unpacked_mib` MiB of ordinary paragraphs."""
    import docx

    template = path.with_name(path.stem + "-template.docx")
    document = docx.Document()
    document.add_paragraph("A well-formed document.")
    document.save(str(template))
    paragraph = b"<w:p><w:r><w:t>The ferry leaves at nine and returns at six.</w:t></w:r></w:p>" * 1000
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            if member.filename != "word/document.xml":
                target.writestr(member, data)
                continue
            head, tail = data.split(b"<w:body>", 1)
            with target.open("word/document.xml", "w", force_zip64=True) as stream:
                stream.write(head + b"<w:body>")
                for _ in range(unpacked_mib * MIB // len(paragraph)):
                    stream.write(paragraph)
                stream.write(tail)
    template.unlink()
    return path


def pdf_page_tree_bomb(path: Path, fan_out: int = 100, levels: int = 3) -> Path:
    """A PDF of a few kB whose page tree names fan_out ** levels pages: each /Pages node lists the
    same child `fan_out` times."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    count = fan_out**levels
    for level in range(levels):
        number = 2 + level
        kids = b" ".join([f"{number + 1} 0 R".encode()] * fan_out)
        objects.append(b"<< /Type /Pages /Kids [" + kids + b"] /Count " + str(count).encode() + b" >>")
        count //= fan_out
    objects.append(b"<< /Type /Page /MediaBox [0 0 612 792] >>")
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(body)
    return path


def simple_pdf(path: Path, pages: list[str]) -> Path:
    """An ordinary PDF, one line of text per page (reportlab)."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path))
    for text in pages:
        pdf.drawString(72, 720, text)
        pdf.showPage()
    pdf.save()
    return path


def _sleep_forever(path: Path, limits) -> ParsedFile:
    time.sleep(600)
    return ParsedFile("never")


def _crash(path: Path, limits) -> ParsedFile:
    os.kill(os.getpid(), signal.SIGKILL)
    return ParsedFile("never")


SLOW_READER = Reader("slow", frozenset({".qa-slow"}), _sleep_forever, isolated=True)
CRASHING_READER = Reader("crash", frozenset({".qa-crash"}), _crash, isolated=True)
