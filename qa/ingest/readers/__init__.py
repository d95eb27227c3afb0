"""Reading files, one module per format: each registers a `Reader` with the registry
(`qa.ingest.readers.registry`), and `reader_for(path)` picks one by suffix. The built-in formats
register themselves exactly as a new one would (`register(Reader(...))`), so the extension point
is the way the core itself reads files.

A reader's parser is imported inside its `read`, never at import time: `qa --help` stays fast.
"""

# The built-in formats, registered by their modules the way a new format would be.
from qa.ingest.readers import docx, html, markdown, pdf, text  # noqa: E402, F401, I001
from qa.ingest.readers import pptx, xlsx, delimited, epub, mail, opendocument, rtf, images  # noqa: E402, F401, I001
from qa.ingest.readers import rst, asciidoc, man, info, notebook, latex, org, docbook  # noqa: E402, F401, I001
from qa.ingest.readers.registry import (
    ParsedFile,
    Reader,
    memory_reason,
    read_here,
    reader_for,
    readers,
    register,
    registered,
    supported_suffixes,
    supported_types,
    unregister,
)

__all__ = [
    "ParsedFile",
    "Reader",
    "memory_reason",
    "read_here",
    "reader_for",
    "readers",
    "register",
    "registered",
    "supported_suffixes",
    "supported_types",
    "unregister",
]
