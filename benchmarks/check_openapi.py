"""Schemathesis against a real `qa serve` on 127.0.0.1, with a write key: every check, every
operation (/ask, /health, /documents GET POST DELETE, /feedback). Target: no server error and no
status the OpenAPI schema does not list.

    .venv/bin/pip install schemathesis
    .venv/bin/python -m benchmarks.check_openapi [--max-examples 100]

The server runs over a fresh index of seeds/ (real model) in a temporary folder, so the uploads
and deletes it receives change nothing of yours. Not part of `make test`: it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import free_port, wait_until_up

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=100)
    args = parser.parse_args()
    schemathesis = Path(sys.executable).with_name("schemathesis")
    if not schemathesis.exists():
        sys.exit("schemathesis is not installed: .venv/bin/pip install schemathesis")
    from qa.ingest.indexing import index_paths
    from qa.server.keys import KeyStore

    work = Path(tempfile.mkdtemp(prefix="qa-openapi-"))
    try:
        index_dir = work / "seeds.qa"
        index_paths([ROOT / "seeds"], index_dir)
        _, key = KeyStore.for_index(index_dir).create("write", "schemathesis")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = (work / "serve.log").open("w")
        server = subprocess.Popen(
            [sys.executable, "-m", "qa", "serve", "--index", str(index_dir), "--port", str(port), "--require-key"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        try:
            wait_until_up(port, server, timeout=300)
            command = [
                str(schemathesis),
                "run",
                f"{base}/openapi.json",
                "--checks",
                "all",
                # A request the schema allows may still be refused: an upload of bytes that are no
                # document (422), feedback or a delete naming no document (404). Documented, not errors.
                "--exclude-checks",
                "positive_data_acceptance",
                "--header",
                f"Authorization: Bearer {key}",
                "--max-examples",
                str(args.max_examples),
                "--workers",
                "1",
                "--suppress-health-check",
                "all",
            ]
            shown = [part if key not in part else "Authorization: Bearer ***" for part in command]
            print("$", " ".join(shown), flush=True)
            return subprocess.call(command, cwd=work)
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
