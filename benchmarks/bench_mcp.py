"""MCP `ask` over streamable HTTP against `POST /ask`, in one run on one `qa serve` (the real model,
the seeds index): the latency an agent pays for the protocol.

Each round asks every question once each way, alternating which goes first, so load that comes and
goes weighs on both alike. The MCP client is the `mcp` SDK's, with one session held open, as an
agent keeps it; /ask is called with one httpx client (kept-alive connection).

    python -m benchmarks.bench_mcp [--rounds 5] [--index DIR]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import (
    REPO,
    exit_on_sigterm,
    free_port,
    load_average,
    percentile,
    print_table,
    qa_command,
    start_server,
    wait_until_up,
    write_results,
)

QUESTIONS = [
    "Who is Moussa Koussa?",
    "How many Libyan army officers appeared in Rome?",
    "Which former foreign minister refused to become Libya's UN ambassador?",
    "What did the British Foreign Office say about its contacts with senior Libyans?",
    "What did the rebels offer?",
    "Where did Koussa fly to?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="times each question is asked each way")
    parser.add_argument("--index", type=Path, help="an index to serve (default: a new index of seeds/)")
    args = parser.parse_args()
    exit_on_sigterm()
    with tempfile.TemporaryDirectory() as scratch:
        index_dir = args.index
        if index_dir is None:
            index_dir = Path(scratch) / "seeds.qa"
            subprocess.run([*qa_command(), "index", str(REPO / "seeds"), "--index", str(index_dir)], check=True)
        port = free_port()
        server = start_server([*qa_command(), "serve", "--index", str(index_dir), "--port", str(port)])
        try:
            wait_until_up(port, server)
            load_before = load_average()
            rest, mcp = measure(f"http://127.0.0.1:{port}", args.rounds)
            load_after = load_average()
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = {
        "rest_p50_ms": percentile(rest, 50) * 1000,
        "mcp_p50_ms": percentile(mcp, 50) * 1000,
        "rest_p90_ms": percentile(rest, 90) * 1000,
        "mcp_p90_ms": percentile(mcp, 90) * 1000,
    }
    figures["ratio_p50"] = figures["mcp_p50_ms"] / figures["rest_p50_ms"]
    print_table(
        f"MCP ask over HTTP vs POST /ask: {len(rest)} questions each way (load {load_before} → {load_after})",
        ["way", "p50 ms", "p90 ms"],
        [
            ["POST /ask", figures["rest_p50_ms"], figures["rest_p90_ms"]],
            ["MCP tools/call ask", figures["mcp_p50_ms"], figures["mcp_p90_ms"]],
            ["ratio (p50)", figures["ratio_p50"], ""],
        ],
    )
    write_results("mcp", {"rounds": args.rounds, "questions": len(QUESTIONS), "load_after": load_after, **figures})


def measure(base: str, rounds: int) -> tuple[list[float], list[float]]:
    import anyio
    import httpx
    from mcp import Client

    async def run() -> tuple[list[float], list[float]]:
        rest: list[float] = []
        mcp: list[float] = []
        async with httpx.AsyncClient(base_url=base, timeout=60) as http, Client(base + "/mcp") as client:
            for question in QUESTIONS:  # warm both paths: the model, the connection, the session
                await http.post("/ask", json={"question": question})
                await client.call_tool("ask", {"question": question})

            async def over_rest(question: str) -> None:
                started = time.perf_counter()
                (await http.post("/ask", json={"question": question})).raise_for_status()
                rest.append(time.perf_counter() - started)

            async def over_mcp(question: str) -> None:
                started = time.perf_counter()
                result = await client.call_tool("ask", {"question": question})
                mcp.append(time.perf_counter() - started)
                assert not result.is_error, result.content

            for round_number in range(rounds):
                for question in QUESTIONS:
                    ways = (over_rest, over_mcp) if round_number % 2 == 0 else (over_mcp, over_rest)
                    for way in ways:
                        await way(question)
        return rest, mcp

    return anyio.run(run)


if __name__ == "__main__":
    main()
