"""Sample files of every format we read, made at test time with the libraries that write them
(python-pptx, openpyxl, odfpy, ebooklib, the email package, reportlab, Pillow), each holding the
facts the tests ask about; and a zip bomb of any zip-based format."""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

MIB = 1 << 20


def make_pptx(path: Path) -> Path:
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly plan"
    slide.placeholders[1].text_frame.text = "Hire two engineers\nShip the importer"
    slide.notes_slide.notes_text_frame.text = "The importer ships on the fourth of March."
    slide = deck.slides.add_slide(deck.slide_layouts[6])  # blank: no title
    box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(6), Inches(1))
    box.text_frame.text = "The lighthouse keeper counts gulls every morning."
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Hardware budget"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(6), Inches(1)).table
    for (row, col), text in {(0, 0): "Item", (0, 1): "Cost", (1, 0): "Telescopes", (1, 1): "7300 euros"}.items():
        table.cell(row, col).text = text
    deck.save(str(path))
    return path


def make_xlsx(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Inventory"
    sheet.append(["Item", "Count", "Shelf"])
    for number in range(1, 80):
        sheet.append([f"Widget {number}", number * 3, f"Shelf {number % 7}"])
    sheet.append(["Brass sextant", 2, "Shelf 9"])  # row 81
    staff = book.create_sheet("Staff")
    staff.append(["Name", "Room"])
    staff.append(["Ada Lovelace", 12])
    book.save(str(path))
    return path


def make_csv(path: Path) -> Path:
    lines = ["Station,Opened,Platforms"]
    lines += [f"Halt {number},{1900 + number},{number % 4 + 1}" for number in range(1, 60)]
    lines.append('"Gullhaven Central",1887,"11"')  # line 61
    path.write_text("\n".join(lines) + "\n")
    return path


def make_epub(path: Path) -> Path:
    from ebooklib import epub

    book = epub.EpubBook()
    book.set_identifier("qa-test-book")
    book.set_title("The Lighthouse Almanac")
    book.set_language("en")
    one = epub.EpubHtml(title="Winter storms", file_name="one.xhtml", lang="en")
    one.content = "<h1>Winter storms</h1><p>In winter the storms close the harbour for eleven days.</p>"
    two = epub.EpubHtml(title="The keeper's garden", file_name="two.xhtml", lang="en")
    two.content = "<p>The keeper grows purple carrots behind the lamp house.</p>"  # no heading: the TOC's
    book.add_item(one)
    book.add_item(two)
    book.toc = (one, two)
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", one, two]
    epub.write_epub(str(path), book)
    return path


def message(subject: str, body: str, sender: str = "Ada <ada@example.org>", day: int = 1, **headers) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = subject
    mail["From"] = sender
    mail["To"] = headers.pop("to", "Team <team@example.org>")
    mail["Date"] = format_datetime(datetime(2026, 3, day, 9, 30, tzinfo=UTC))
    mail.set_content(body)
    return mail


def make_eml(path: Path) -> Path:
    mail = message("Harbour dredging", "The dredger arrives on pier four on the ninth of May.\n\nRegards,\nAda")
    mail.add_attachment(
        b"The dredging permit number is HX-4471.", maintype="text", subtype="plain", filename="permit.txt"
    )
    path.write_bytes(bytes(mail))
    return path


def thread(count: int = 5) -> list[EmailMessage]:
    """A thread of `count` messages, each replying above the whole of the one before, quoted
    Gmail-style ("On … wrote:" and "> " lines); the first one says when the ferry sails."""
    senders = ["Ada <ada@example.org>", "Ben <ben@example.org>", "Cy <cy@example.org>", "Di <di@example.org>"]
    first = "The winter ferry to Gullholm sails at 07:40 from quay two.\nBook the cabins early."
    bodies = [first]
    replies = [
        "Thanks, I will book the cabins for the crew today.",
        "Does anyone know if bicycles are allowed on board?",
        "Bicycles are allowed if they are folded.",
        "Great, see you all on the quay then.",
    ]
    for number in range(1, count):
        quoted = "\n".join(f"> {line}" if line else ">" for line in bodies[-1].split("\n"))
        attribution = f"On Sun, {number} Mar 2026 at 09:30, {senders[(number - 1) % 4]} wrote:"
        bodies.append(f"{replies[number - 1]}\n\n{attribution}\n{quoted}")
    subject = "Winter ferry"
    return [
        message(subject if n == 0 else f"Re: {subject}", body, senders[n % 4], day=n + 1)
        for n, body in enumerate(bodies)
    ]


def make_mbox(path: Path, messages: list[EmailMessage] | None = None) -> Path:
    import mailbox

    box = mailbox.mbox(str(path))
    for mail in messages or thread():
        box.add(mail)
    box.flush()
    box.close()
    return path


def make_odt(path: Path) -> Path:
    from odf.opendocument import OpenDocumentText
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    document.text.addElement(H(outlinelevel=1, text="Moorings"))
    document.text.addElement(P(text="A mooring on the east pontoon costs nineteen euros a night."))
    items = List()
    item = ListItem()
    item.addElement(P(text="Water and power are included."))
    items.addElement(item)
    document.text.addElement(items)
    document.save(str(path))
    return path


def make_ods(path: Path) -> Path:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for name, rows in {
        "Tides": [["Day", "High water"], ["Monday", "06:12"], ["Tuesday", "06:58"]],
        "Boats": [["Boat", "Owner"], ["Kittiwake", "Maren Holt"]],
    }.items():
        table = Table(name=name)
        for values in rows:
            row = TableRow()
            for value in values:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=value))
                row.addElement(cell)
            table.addElement(row)
        document.spreadsheet.addElement(table)
    document.save(str(path))
    return path


def make_odp(path: Path) -> Path:
    from odf.draw import Frame, Page, TextBox
    from odf.opendocument import OpenDocumentPresentation
    from odf.presentation import Notes
    from odf.style import MasterPage, PageLayout
    from odf.text import P

    document = OpenDocumentPresentation()
    layout = PageLayout(name="layout")
    document.automaticstyles.addElement(layout)
    master = MasterPage(name="Default", pagelayoutname=layout)
    document.masterstyles.addElement(master)

    def frame(text: str, **attributes) -> Frame:
        shape = Frame(width="20cm", height="3cm", x="1cm", y="1cm", **attributes)
        box = TextBox()
        box.addElement(P(text=text))
        shape.addElement(box)
        return shape

    for title, body, note in [
        ("Welcome", "Opening words", "Thank the harbour master."),
        ("Regatta", "The regatta starts at the red buoy at noon.", "Mention the prize of a silver cup."),
    ]:
        page = Page(masterpagename=master)
        page.addElement(frame(title, **{"class": "title"}))
        page.addElement(frame(body))
        notes = Notes()
        notes.addElement(frame(note))
        page.addElement(notes)
        document.presentation.addElement(page)
    document.save(str(path))
    return path


def make_rtf(path: Path) -> Path:
    path.write_text(
        r"{\rtf1\ansi\deff0{\fonttbl{\f0 Times;}}\f0\fs24 Lamp maintenance\par"
        r"\par The lamp lens is polished every Thursday with chamois leather.\par"
        r"\par Caf\'e9 opening: the caf\'e9 on the pier opens at eight.\par}"
    )
    return path


def zip_bomb(template: Path, path: Path, member: str, unpacked_mib: int = 300) -> Path:
    """`template` (a zip-based file) with `unpacked_mib` MiB of spaces added as `member`: a few
    hundred kB on disk."""
    with zipfile.ZipFile(template) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info))
        with target.open(member, "w", force_zip64=True) as stream:
            block = b" " * MIB
            for _ in range(unpacked_mib):
                stream.write(block)
    return path


def make_rst(path: Path) -> Path:
    """A reStructuredText page as Sphinx sources are written: titles by underline, a wrapped
    paragraph, an admonition, a literal block and a directive that holds no text."""
    path.write_text(
        "================\n Harbour handbook\n================\n\n"
        "Cranes\n------\n\n"
        "The old crane lifts twelve tonnes at most;\nthe new one lifts forty.\n\n"
        "Book through :ref:`the harbour office <office>` with ``harbour-book``, **never** by phone.\n\n"
        ".. note::\n   Cranes stop in winds above force six.\n\n"
        "Book a crane with::\n\n    harbour-book crane --day monday\n\n"
        ".. toctree::\n   :maxdepth: 2\n\n   moorings\n\n"
        "Moorings\n--------\n\nVisitors moor on the west pontoon.\n"
    )
    return path


def make_adoc(path: Path) -> Path:
    """An AsciiDoc page as manuals write it: a document title, sections, a description list, a
    listing block, an admonition, an attribute, comments and an include that holds no text here."""
    path.write_text(
        "= Lighthouse keeping\n:keeper: Maren Holt\n\n"
        "// written for the winter season\n"
        "include::shared/header.adoc[]\n\n"
        "== The lamp\n\n"
        "The lamp is lit half an hour before sunset\nand put out at sunrise, by {keeper}.\n\n"
        "NOTE: The spare bulbs are kept in the *brass* chest.\n\n"
        "== Supplies\n\n"
        "paraffin::\n  Forty litres are ordered each `October`, see <<orders,the order book>>.\n"
        "wicks:: Trimmed every morning.\n\n"
        "[source,sh]\n----\nlamp --check --verbose\n----\n"
    )
    return path


def make_ipynb(path: Path) -> Path:
    """A notebook: Markdown cells with headings, a code cell and what it printed, and a figure."""
    import json

    cells = [
        {
            "cell_type": "markdown",
            "metadata": {},
            "source": ["# Fish landings\n", "\n", "Landings at the quay, by week."],
        },
        {"cell_type": "markdown", "metadata": {}, "source": "## Weekly totals"},
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "source": [
                "cod = landings[landings.species == 'cod']\n",
                "print(f'Cod landed this week: {cod.kg.sum():,} kg')",
            ],
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["Cod landed this week: 1,240 kg\n"]}],
        },
        {
            "cell_type": "code",
            "execution_count": 2,
            "metadata": {},
            "source": "cod.plot()",
            "outputs": [
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
                }
            ],
        },
    ]
    notebook = {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(notebook))
    return path


def make_man(path: Path) -> Path:
    """A manual page in roff, as man(7) writes one."""
    path.write_text(
        '.TH BUOY-LIGHT 1 "2026-12-05"\n.SH NAME\nbuoy-light \\- switch the harbour buoy lights\n'
        ".SH SYNOPSIS\n.B buoy-light\n.RB [ \\-\\-flash ]\n.SH OPTIONS\n.TP\n.B \\-\\-flash\n"
        "Makes the buoy light flash every four seconds, as the harbour master wants it in fog.\n"
    )
    return path


def make_info(path: Path) -> Path:
    """A GNU Info manual of two nodes."""
    path.write_text(
        "This is pilot.info, produced by makeinfo.\n\n"
        "\x1f\nFile: pilot.info,  Node: Top,  Next: Boarding,  Up: (dir)\n\n"
        "Pilot Service\n*************\n\nHow pilots bring ships in.\n\n* Menu:\n\n* Boarding::\n\n"
        "\x1f\nFile: pilot.info,  Node: Boarding,  Prev: Top,  Up: Top\n\n1 Boarding\n**********\n\n"
        "The pilot boards each ship at the fairway buoy,\ntwo miles out, from the orange pilot boat.\n\n"
        "\x1f\nTag Table:\nNode: Top40\n\x1f\nEnd Tag Table\n"
    )
    return path


def make_tex(path: Path) -> Path:
    """A LaTeX paper: a title, an abstract, a section, a list, a figure's caption and a citation."""
    path.write_text(
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\title{Island \\emph{Wildlife}}\n"
        "\\begin{document}\n\\maketitle\n\\begin{abstract}\nWe count the seals of Skarholm.\n\\end{abstract}\n"
        "\\section{Seals}\\label{sec:seals}\n"
        "The \\textbf{seal} colony was first counted in 1911~\\cite{holt}; it is\ncounted again every fifth spring.\n\n"
        "\\begin{itemize}\n\\item It held forty seals at the last count.\n\\end{itemize}\n"
        "\\begin{figure}\\includegraphics{seals.png}\\caption{Seals on the north rocks.}\\end{figure}\n"
        "\\end{document}\n"
    )
    return path


def make_org(path: Path) -> Path:
    """Org mode notes: a title, a tagged headline with a drawer, a linked paragraph, a term list."""
    path.write_text(
        "#+TITLE: Harbour notes\n# not for the index\n\n* Animals                :quay:\n:PROPERTIES:\n:ID: 42\n:END:\n"
        "The harbour cat, Tobias, is fed at six\nby the [[https://ferry.example][ferry crew]].\n\n"
        "- Gulls :: never fed\n"
    )
    return path


def make_docbook(path: Path) -> Path:
    """A DocBook 4 article as Debian ships manuals: its DTD named (never fetched), an entity it
    defines itself and one from the DTD, front matter, nested sections, a variable list, a table,
    a program listing, an index term and a citation."""
    path.write_text(
        '<?xml version="1.0" standalone="no"?>\n'
        '<!DOCTYPE article PUBLIC "-//OASIS//DTD DocBook XML V4.5//EN" '
        '"http://www.oasis-open.org/docbook/xml/4.5/docbookx.dtd" [\n'
        '  <!ENTITY guild "Net Makers\' Guild">\n]>\n'
        "<article><articleinfo><title>The net loft</title>"
        "<author><firstname>Ingrid</firstname><surname>Sola</surname></author></articleinfo>"
        "<sect1><title>Mending</title><sect2><title>Herring nets</title>"
        "<para>Herring nets<indexterm><primary>nets</primary></indexterm> are mended in the loft "
        "only when the wind is stronger than&nbsp;force six, as the &guild; rules<citation>NMG</citation>.</para>"
        "<variablelist><varlistentry><term>twine</term><listitem><para>Tarred hemp, bought by the "
        "bale each spring.</para></listitem></varlistentry></variablelist></sect2></sect1>"
        "<sect1><title>Prices</title><informaltable><tgroup cols='2'><thead><row><entry>Net</entry>"
        "<entry>Price</entry></row></thead><tbody><row><entry>Drift net</entry><entry>900 kroner</entry></row>"
        "</tbody></tgroup></informaltable>"
        "<programlisting>loft --book --net herring\nloft --cancel</programlisting></sect1></article>\n"
    )
    return path


MAKERS = {
    ".pptx": make_pptx,
    ".xlsx": make_xlsx,
    ".csv": make_csv,
    ".epub": make_epub,
    ".eml": make_eml,
    ".mbox": make_mbox,
    ".odt": make_odt,
    ".ods": make_ods,
    ".odp": make_odp,
    ".rtf": make_rtf,
    ".rst": make_rst,
    ".adoc": make_adoc,
    ".ipynb": make_ipynb,
    ".1": make_man,
    ".info": make_info,
    ".tex": make_tex,
    ".org": make_org,
    ".xml": make_docbook,
}


def page_image(text: str, dpi: int = 200):
    """A white A4 page image at `dpi` with `text` in 11 pt type (Pillow's own face), a paragraph
    to a blank line, as a scanner would give it."""
    from PIL import Image, ImageDraw, ImageFont

    size = round(11 / 72 * dpi)
    face = ImageFont.load_default(size)
    page = Image.new("L", (round(8.27 * dpi), round(11.69 * dpi)), 255)
    draw = ImageDraw.Draw(page)
    y, width = dpi, round(6.27 * dpi)
    for paragraph in text.split("\n\n"):
        line = ""
        for word in paragraph.split():
            if line and draw.textlength(f"{line} {word}", font=face) > width:
                draw.text((dpi, y), line, font=face, fill=0)
                y, line = y + round(size * 1.4), word
            else:
                line = f"{line} {word}".strip()
        draw.text((dpi, y), line, font=face, fill=0)
        y += round(size * 2.2)
    return page


def make_scanned_pdf(path: Path, typed: str, scanned: str) -> Path:
    """A PDF of two pages: the first with a text layer (`typed`, a line to a line), the second only
    an image of `scanned`."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    for line, words in enumerate(typed.split("\n")):
        pdf.drawString(72, 760 - 14 * line, words)
    pdf.showPage()
    pdf.drawImage(ImageReader(page_image(scanned).convert("RGB")), 0, 0, *A4)
    pdf.showPage()
    pdf.save()
    return path
