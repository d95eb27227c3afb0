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
def test_qa_installed_from_the_wheel_answers_from_the_seeds(wheel, tmp_path):
    """A fresh venv with the wheel installed (its dependencies taken from this environment, so the
    test installs nothing else), run from outside the checkout: `qa ask` builds the seeds index
    from the seeds the wheel installed, and answers."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(purelib, "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "QA_SEEDS"}}
    env["QA_HOME"] = str(tmp_path / "home")
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
