"""qa as a built wheel, not only as an editable checkout: the seeds and the widget's files ship
with it, and an installed `qa ask` answers from the seeds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, SEEDS


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built from a copy of the tracked files (as a clean clone would build it)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=PROJECT_ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (PROJECT_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", ".", "-w", str(work)]
    subprocess.run(command, cwd=source, check=True, capture_output=True, timeout=300)
    return next(work.glob("*.whl"))


@pytest.mark.slow
def test_the_wheel_holds_the_seeds_and_the_widget(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {"api/static/widget.js", "api/static/index.html"} <= set(names)
    shipped = {Path(name).name for name in names if "/share/qa-passages/seeds/" in name}
    assert shipped == {path.name for path in SEEDS.glob("*.txt")}


@pytest.mark.slow
def test_qa_installed_from_the_wheel_answers_from_the_seeds_without_torch(wheel, tmp_path):
    """A fresh venv with the wheel installed (its dependencies taken from this environment, so the
    test installs nothing else), run from outside the checkout and with torch, transformers and
    sentence-transformers made unimportable, as `make setup` leaves them: `qa ask` exports the model,
    builds the seeds index from the seeds the wheel installed, and answers."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    blocked = tmp_path / "blocked"  # found before this environment's copies, which it shadows
    blocked.mkdir()
    for name in ("torch", "transformers", "sentence_transformers"):
        (blocked / f"{name}.py").write_text(f"raise ImportError('{name} is not installed (test_wheel)')\n")
    Path(purelib, "aa_blocked.pth").write_text(f"{blocked}\n")
    Path(purelib, "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "QA_SEEDS"}}
    env["QA_HOME"] = str(tmp_path / "home")
    env["QA_CACHE_DIR"] = str(tmp_path / "cache")  # so the model is exported here, without torch
    where = subprocess.run(
        [str(python), "-c", "import qa; print(qa.__file__)"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert where.stdout.startswith(str(venv)), where.stdout + where.stderr  # the wheel's qa, not the checkout's
    done = subprocess.run(
        [str(venv / "bin" / "qa"), "ask", "Who is Moussa Koussa?", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["passages"] and "Koussa" in answer["passages"][0]["text"]
    assert (venv / "share" / "qa-passages" / "seeds").is_dir()
    (export,) = (tmp_path / "cache" / "onnx").glob("*/onnx_config.json")
    assert json.loads(export.read_text())["built_from"] == "safetensors"
    blocked_import = subprocess.run([str(python), "-c", "import torch"], cwd=tmp_path, env=env, capture_output=True)
    assert blocked_import.returncode != 0  # the blocking itself works
