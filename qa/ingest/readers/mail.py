"""Mail: a message (.eml) or a mailbox (.mbox), with the standard library's email package.

A message is a page (in a mailbox, the citation's `page` is the message's number): its subject
is its heading, From, To, Cc and Date follow as a block of their own (kept, and searchable), then
its body, the plain-text part or else the HTML part read by the HTML reader. Quoted replies are
left out: lines starting with ">" and the "On … wrote:" or "-----Original Message-----" block
that introduces a quoted message (in HTML, `<blockquote>` and the quote blocks of Gmail,
Thunderbird and Outlook), so an answer quotes the message that first said something,
not every reply that repeats it. Attachments of a type we read are read by their reader and
follow the message under the heading "Attachment: name" (cited as part of the message; an
attachment inside an attachment is not read). Read in the bounded worker process."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from qa.compressed import shown_suffix
from qa.errors import UnreadableFile
from qa.ingest.blocks import BlockText
from qa.ingest.readers.registry import ParsedFile, Reader, read_here, reader_for, register
from qa.text.normalize import normalize_text

if TYPE_CHECKING:
    from email.message import EmailMessage

    from qa.ingest.limits import ReadLimits

_HEADERS = ("From", "To", "Cc", "Date")
# The line that introduces a quoted message: "On Tue, 3 Mar 2026 at 10:00, Ada <ada@x.org> wrote:"
# (Gmail, Apple Mail, Thunderbird; it may wrap over two lines), or Outlook's separators.
_ATTRIBUTION = re.compile(r"^\s*On\b.{0,300}?\bwrote:\s*$", re.DOTALL)
_OUTLOOK = re.compile(r"^\s*(-{2,}\s*Original Message\s*-{2,}|_{10,})\s*$", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*From:\s.+$")
_OUTLOOK_FIELDS = re.compile(r"^\s*(Sent|Date|To|Subject):\s")
_SIGNATURE = "-- "


def read_eml(path: Path, limits: ReadLimits) -> ParsedFile:
    import email
    from email import policy

    with path.open("rb") as handle:
        message = email.message_from_binary_file(handle, policy=policy.default)
    if not any(message.get(name) for name in ("From", "Subject", "Date", "Message-ID")):
        raise UnreadableFile("not a mail message (no From, Subject, Date or Message-ID header)")
    out = BlockText()
    _add_message(out, message, limits, attachments=True)
    return ParsedFile(out.text, _header(message, "Subject"), blocks=tuple(out.blocks))


def read_mbox(path: Path, limits: ReadLimits) -> ParsedFile:
    import mailbox
    from email import policy
    from email.parser import BytesParser

    parser = BytesParser(policy=policy.default)
    box = mailbox.mbox(str(path), factory=lambda f: parser.parse(f), create=False)
    out = BlockText()
    subjects = []
    try:
        for count, message in enumerate(box, 1):
            if count > limits.max_parts:
                raise UnreadableFile(f"over {limits.max_parts:,} messages, over the limit")
            out.start_page()
            _add_message(out, message, limits, attachments=True)
            subjects.append(_header(message, "Subject"))
    finally:
        box.close()
    if not subjects:
        raise UnreadableFile("no messages in the mailbox")
    return ParsedFile(out.text, subjects[0], out.page_starts, blocks=tuple(out.blocks))


def _header(message: EmailMessage, name: str) -> str:
    try:
        return normalize_text(" ".join(str(message.get(name) or "").split()))
    except Exception:  # a header too broken to decode is left out, not the message
        return ""


def _add_message(out: BlockText, message: EmailMessage, limits: ReadLimits, attachments: bool) -> None:
    out.add("heading", _header(message, "Subject") or "(no subject)", 1)
    fields = [f"{name}: {value}" for name in _HEADERS if (value := _header(message, name))]
    out.add("text", "\n".join(fields), keep_lines=True)
    body = message.get_body(preferencelist=("plain", "html"))
    if body is not None:
        content = _content(body)
        if body.get_content_subtype() == "html":
            from qa.ingest.readers.html import html_blocks

            _, built, text = html_blocks(_html_without_quotes(content).encode("utf-8"))
            text = without_quotes(text)
        else:
            text = without_quotes(content)
        for paragraph in re.split(r"\n\s*\n", text):
            out.add("paragraph", paragraph)
    if attachments:
        for part in message.iter_attachments():
            _add_attachment(out, part, limits)


def _html_without_quotes(html: str) -> str:
    """An HTML body without the messages it quotes: `<blockquote>`, Gmail's `gmail_quote` (with
    its "On … wrote:" line) and Outlook's reply header and everything after it."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for quoted in soup.select("blockquote, .gmail_quote, .gmail_attr, .moz-cite-prefix"):
        quoted.decompose()
    outlook = soup.select_one("#divRplyFwdMsg, #appendonsend")
    if outlook is not None:
        for later in list(outlook.find_all_next()):
            later.decompose()
        outlook.decompose()
    return str(soup)


def _content(part) -> str:
    try:
        content = part.get_content()
    except (LookupError, ValueError):  # an unknown charset: the bytes, decoded as best we can
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def without_quotes(body: str) -> str:
    """A reply's own words: quoted lines ("> …") and the "On … wrote:" line that introduces them
    are left out (what the reply says between or after them is kept), and so is everything from
    an Outlook "-----Original Message-----" or "From:/Sent:" block, whose quote is not marked line
    by line, or a signature's "-- ", to the end."""
    lines = body.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    skip = 0
    for index, line in enumerate(lines):
        if skip:
            skip -= 1
            continue
        if line == _SIGNATURE or _OUTLOOK.match(line):
            break
        if _OUTLOOK_FROM.match(line) and any(_OUTLOOK_FIELDS.match(later) for later in lines[index + 1 : index + 3]):
            break
        if line.lstrip().startswith(">"):
            continue
        span = _attribution(lines, index)
        if span:
            skip = span - 1
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def _attribution(lines: list[str], index: int) -> int:
    """How many lines (1 or 2) the "On … wrote:" line at `index` takes when quoted lines follow
    it; 0 when there is none."""
    if not lines[index].lstrip().startswith("On "):
        return 0
    for span in (1, 2):
        if _ATTRIBUTION.match(" ".join(lines[index : index + span])):
            rest = [line for line in lines[index + span :] if line.strip()]
            return span if not rest or rest[0].lstrip().startswith(">") else 0
    return 0


def _add_attachment(out: BlockText, part, limits: ReadLimits) -> None:
    """An attachment of a type we read, read by its reader here (already in the bounded worker),
    its blocks under "Attachment: name"; one we cannot read is named and left out."""
    name = Path(part.get_filename() or "").name
    reader = reader_for(name) if name else None
    if reader is None or reader.name in ("eml", "mbox"):
        return
    data = part.get_payload(decode=True) or b""
    if len(data) > limits.max_file_bytes:
        return
    with tempfile.TemporaryDirectory(prefix="qa-attachment-") as folder:
        attached = Path(folder) / f"attachment{shown_suffix(name).lower()}"  # .txt.gz: unpacked by read_here
        attached.write_bytes(data)
        try:
            parsed = read_here(reader, attached, limits)
        except UnreadableFile:
            return
    if not parsed.text.strip():
        return
    out.add("heading", f"Attachment: {name}", 2)
    if parsed.blocks:
        nested = BlockText()
        for block in parsed.blocks:  # one level below the attachment's heading
            level = block.level + 2 if block.kind == "heading" else 0
            nested.add(block.kind, parsed.text[block.start : block.end], level, keep_lines=True)
        out.extend(nested)
    else:
        for paragraph in parsed.text.split("\n\n"):
            out.add("paragraph", paragraph)


register(Reader("eml", frozenset({".eml"}), read_eml, isolated=True, preload=("bs4", "lxml")))
register(Reader("mbox", frozenset({".mbox"}), read_mbox, isolated=True, preload=("bs4", "lxml")))
