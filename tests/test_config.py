from pathlib import Path

import pytest

from models.settings import ConfigError, load_settings


def test_defaults_are_vietnamese_and_embedded_sqlite(tmp_path: Path) -> None:
    s = load_settings(None, data_dir=str(tmp_path))
    assert s.locale == "vi"
    assert s.timezone == "Asia/Ho_Chi_Minh"
    assert s.database_url == f"sqlite:///{tmp_path / 'chibot.sqlite3'}"
    assert s.telegram.token == "" and s.zalo.token == ""


def test_example_config_loads() -> None:
    example = Path(__file__).resolve().parent.parent / "config.example.toml"
    s = load_settings(example)
    assert s.cycle.agenda_post_before_h == 72
    assert s.rubric == "hd42-2025"


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('timezone = "Asia/Bangkok"\n[database]\nurl = "sqlite:///x.db"\n')
    monkeypatch.setenv("CHIBOT_DATABASE__URL", "sqlite:///from-env.db")
    s = load_settings(cfg)
    assert s.timezone == "Asia/Bangkok"
    assert s.database_url == "sqlite:///from-env.db"


@pytest.mark.parametrize(("body", "key"), [
    ('timezone = "Mars/Olympus"', "timezone"),
    ('[database]\nurl = "mysql://x"', "database.url"),
    ('[cycle]\ndefault_meeting_time = "25:00"', "cycle.default_meeting_time"),
    ('[telegram]\nmode = "carrier-pigeon"', "telegram.mode"),
    ('surprise = 1', "surprise"),
])
def test_bad_value_names_the_key(tmp_path: Path, body: str, key: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(body)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert key in str(err.value)


def test_missing_and_broken_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)
