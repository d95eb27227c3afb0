"""Schemathesis against a real `qa serve` on 127.0.0.1, with every check (the authentication and
positive-data checks included), once per key and server setting: every operation (/ask, /health,
/documents GET POST DELETE, /feedback). Target: 0 failures in each run.

    .venv/bin/pip install schemathesis        # 4.32.5
    .venv/bin/python -m benchmarks.check_openapi [--max-examples 100] [--runs write,read,open]

The runs (each over its own fresh copy of an index of seeds/, real model, in a temporary folder, so
the uploads and deletes it receives change nothing of yours):

- write: `qa serve --require-key`, a write key;
- read: `qa serve --require-key`, a read key scoped with `qa keys create --scope read --in …`
  (uploads and deletes are refused with 403; documents outside its scope are not found);
- open: `qa serve` with reads open (the default), a write key: the schema must not claim that reads
  need a key there.

Two rules JSON Schema cannot state are applied, not excluded: benchmarks/openapi_hooks.py drops the
positive /ask cases whose `filters.since` is after `filters.until` (a documented 422). And one
exception is configured: a schema-valid upload may be refused with 422, because
whether bytes are a readable document (not binary, not empty of text) and whether names can be
stored (no two files of one name) is not something OpenAPI can say of a multipart part (see
docs/SHARED_SERVER.md, "OpenAPI completeness"). `positive_data_acceptance` runs on every other
operation with schemathesis' own expected statuses. Not part of `make test`: it takes minutes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.common import free_port, load_average, qa_command, wait_until_up

ROOT = Path(__file__).resolve().parent.parent

# (server options, key scope, extra `qa keys create` options) of each run.
RUNS: dict[str, tuple[list[str], str, list[str]]] = {
    "write": (["--require-key"], "write", []),
    "read": (["--require-key"], "read", ["--in", "00[0-2]_*"]),
    "open": ([], "write", []),
}

# The upload's one documented refusal of schema-valid data: schemathesis' default expected statuses
# for positive data, plus 413 (over a size limit) and 422 (not a readable document, or a name that
# cannot be stored).
CONFIG = """\
# A body over its size limit is refused with the documented 413: a refusal like 422.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

[[operations]]
include-name = "POST /documents"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", "3xx", "401", "403", "404", "409", "413", "422", "429", "5xx",
]
"""


def run_one(name: str, seeds_index: Path, work: Path, max_examples: int) -> dict:
    """One schemathesis run against a fresh server; its exit code and summary line."""
    server_options, scope, key_options = RUNS[name]
    index_dir = work / f"{name}.qa"
    shutil.copytree(seeds_index, index_dir)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    key = subprocess.run(
        [*qa_command(), "keys", "create", "--scope", scope, "--name", f"schemathesis-{name}",
         "--index", str(index_dir), *key_options],
        check=True, env=env, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    port = free_port()
    log = (work / f"serve-{name}.log").open("w")
    server = subprocess.Popen(
        [*qa_command(), "serve", "--index", str(index_dir), "--port", str(port), *server_options],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        wait_until_up(port, server, timeout=300)
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file", str(work / "schemathesis.toml"),
            "run", f"http://127.0.0.1:{port}/openapi.json",
            "--checks", "all",
            "--header", f"Authorization: Bearer {key}",
            "--max-examples", str(max_examples),
            "--workers", "1",
            "--suppress-health-check", "all",
            "--no-color",
        ]  # fmt: skip
        shown = " ".join(part if key not in part else "Authorization: Bearer KEY" for part in command)
        print(f"\n### {name}: qa serve {' '.join(server_options) or '(reads open)'}, {scope} key "
              f"{' '.join(key_options)}\n$ {shown}", flush=True)  # fmt: skip
        hooks = {"SCHEMATHESIS_HOOKS": "benchmarks.openapi_hooks", "PYTHONPATH": str(ROOT)}
        done = subprocess.run(command, cwd=work, capture_output=True, text=True, env={**env, **hooks})
        output = done.stdout + done.stderr
        print(output, flush=True)
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    summary = [line for line in output.splitlines() if re.search(r"\d+ (passed|failed|failures?|errors?)", line)]
    server_errors = (work / f"serve-{name}.log").read_text().count("Traceback")
    summary_line = summary[-1] if summary else ""
    return {"run": name, "exit": done.returncode, "summary": summary_line, "tracebacks": server_errors}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--runs", default="write,read,open", help=f"comma-separated, of {', '.join(RUNS)}")
    parser.add_argument("--strict", action="store_true", help="no exception for the upload's 422 either")
    args = parser.parse_args()
    if not Path(sys.executable).with_name("schemathesis").exists():
        sys.exit("schemathesis is not installed: .venv/bin/pip install schemathesis")
    runs = [name.strip() for name in args.runs.split(",") if name.strip()]
    if unknown := set(runs) - set(RUNS):
        sys.exit(f"unknown runs: {', '.join(sorted(unknown))}; choose from {', '.join(RUNS)}")
    from qa.ingest.indexing import index_paths

    work = Path(tempfile.mkdtemp(prefix="qa-openapi-"))
    try:
        (work / "schemathesis.toml").write_text("" if args.strict else CONFIG)
        seeds_index = work / "seeds.qa"
        index_paths([ROOT / "seeds"], seeds_index)
        load_before = load_average()
        results = [run_one(name, seeds_index, work, args.max_examples) for name in runs]
        print(f"\nload average before {load_before}, after {load_average()}")
        for result in results:
            print(f"{result['run']:>6}: exit {result['exit']}, server tracebacks {result['tracebacks']}: "
                  f"{result['summary']}")  # fmt: skip
        return max(result["exit"] for result in results)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
