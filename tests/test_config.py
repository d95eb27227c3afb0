"""qa/config.py: the QA_* variables, read when asked, with the same defaults as before."""

from pathlib import Path

from qa import config


def test_defaults_are_the_xdg_folders(monkeypatch, tmp_path):
    for name in ("QA_HOME", "QA_SEEDS", "QA_CACHE_DIR", "QA_ENCODER_BACKEND", "QA_RAY_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    current = config.current()
    assert current.home == tmp_path / "data" / "qa"
    assert current.cache_dir == tmp_path / "cache" / "qa"
    assert current.seeds == config.PROJECT_ROOT / "seeds"
    assert current.encoder_backend == "auto" and current.ray_address is None
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config.data_home() == tmp_path / "home" / ".local" / "share" / "qa"


def test_the_environment_is_read_each_time(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_HOME", str(tmp_path / "one"))
    assert config.data_home() == tmp_path / "one"
    monkeypatch.setenv("QA_HOME", str(tmp_path / "two"))
    monkeypatch.setenv("QA_SEEDS", str(tmp_path / "corpus"))
    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("QA_ENCODER_BACKEND", "torch")
    monkeypatch.setenv("QA_RAY_ADDRESS", "head:6379")
    current = config.current()
    assert current.home == tmp_path / "two" and current.seeds == tmp_path / "corpus"
    assert current.encoder_options() == {"cache_dir": tmp_path / "cache", "backend": "torch"}
    assert current.ray_address == "head:6379"
    assert config.default_index_dir().parent == tmp_path / "two" / "indexes"


def test_an_unknown_backend_is_a_warning_and_auto(monkeypatch, caplog):
    monkeypatch.setenv("QA_ENCODER_BACKEND", "gpu")
    assert config.current().encoder_backend == "auto"
    assert "QA_ENCODER_BACKEND" in caplog.text


def test_progress_seconds_are_read_and_a_bad_value_is_a_warning(monkeypatch, caplog):
    monkeypatch.setenv("QA_PROGRESS_SECONDS", "0.5")
    assert config.current().progress_seconds == 0.5
    monkeypatch.setenv("QA_PROGRESS_SECONDS", "often")
    assert config.current().progress_seconds == 5.0
    assert "QA_PROGRESS_SECONDS=often" in caplog.text


def test_embeddings_called_directly_uses_the_user_cache_folder(monkeypatch, tmp_path):
    from embeddings.onnx_encoder import default_cache_dir

    monkeypatch.setenv("QA_CACHE_DIR", str(tmp_path / "not-read-by-embeddings"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == Path(tmp_path / "xdg" / "qa")


def test_server_folders_sit_beside_the_index(tmp_path):
    assert config.server_data_dir(tmp_path / "team.qa") == tmp_path / "team.qa-server"
    assert config.uploads_dir(tmp_path / "team.qa") == tmp_path / "team.qa-documents"
