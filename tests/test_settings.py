"""Settings precedence (defaults < toml < env < flags) and that every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.settings import SettingsError, load_settings, setting_fields

README = Path(__file__).resolve().parents[1] / "README.md"


def test_defaults(tmp_path):
    settings = load_settings(config_file=None, env={"LOSSGRAM_CONFIG": str(tmp_path / "x.toml")})
    assert settings.eps == 1e-12
    assert settings.ignore_index == -100
    assert settings.warehouse == Path("data/warehouse")


def test_precedence_toml_env_flags(tmp_path):
    config = tmp_path / "lossgram.toml"
    config.write_text(
        "label_smoothing = 0.1\neps = 1e-9\nclass_weights = [1, 2]\n"
        'column_map = { label = "target" }\nignore_index = 5\n'
    )
    env = {"LOSSGRAM_EPS": "1e-6", "LOSSGRAM_IGNORE_INDEX": "none"}
    settings = load_settings(config, env=env, overrides={"label_smoothing": 0.2})
    assert settings.label_smoothing == 0.2  # flag beats toml
    assert settings.eps == 1e-6  # env beats toml
    assert settings.ignore_index is None
    assert settings.class_weights == (1.0, 2.0)
    assert settings.column_map == {"label": "target"}


def test_bad_values_are_clear(tmp_path):
    with pytest.raises(SettingsError, match="eps"):
        load_settings(None, env={"LOSSGRAM_EPS": "lots"})
    with pytest.raises(SettingsError, match="canonical=source"):
        load_settings(None, env={"LOSSGRAM_COLUMN_MAP": "label"})
    config = tmp_path / "lossgram.toml"
    config.write_text("colour = 'red'\n")
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        load_settings(config, env={})


def test_every_setting_is_documented_in_the_readme():
    text = README.read_text()
    for spec in setting_fields():
        assert re.search(rf"`{spec.name}`", text), f"setting {spec.name} missing from README"
        assert f"LOSSGRAM_{spec.name.upper()}" in text or "LOSSGRAM_<NAME>" in text


def test_init_file_lists_every_setting_and_round_trips(tmp_path, monkeypatch):
    import tomllib

    from pipeline.settings import Settings, commented_toml

    text = commented_toml()
    assert tomllib.loads(text) == {}  # everything commented out
    for spec in setting_fields():
        assert f"# {spec.name} =" in text and spec.metadata["help"] in text
    uncommented = "\n".join(
        line[2:]
        for line in text.splitlines()
        if line.startswith("# ") and " = " in line and "(unset" not in line
    )
    monkeypatch.chdir(tmp_path)  # folders in a config file are relative to its folder
    config = Path("lossgram.toml")
    config.write_text(uncommented)
    assert load_settings(config, env={}) == Settings()


def test_folders_in_a_config_file_are_relative_to_it(tmp_path, monkeypatch):
    """They resolved against wherever lossgram was started."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "lossgram.toml").write_text('inbox = "dumps"\nwarehouse = "/srv/wh"\n')
    monkeypatch.chdir(tmp_path)
    loaded = load_settings(project / "lossgram.toml", env={}, overrides={"reports": "out"})
    assert loaded.inbox == project / "dumps"
    assert loaded.warehouse == Path("/srv/wh") and loaded.reports == Path("out")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("fail_on = 3", "setting fail_on: expected a list or text, got 3"),
        ('fail_on = ["overfit", 3]', "setting fail_on: expected a list of strings"),
        ("column_map = 3", "setting column_map: expected a table or text, got 3"),
        ("heldout_splits = 3", "setting heldout_splits: expected a list or text"),
        ('class_weights = ["a"]', "setting class_weights: expected a list of numbers"),
        ("min_samples = 2.5", "setting min_samples: expected a whole number, got 2.5"),
        ("warehouse = 3", "setting warehouse: expected text, got 3"),
    ],
)
def test_a_toml_value_of_the_wrong_kind_is_refused_before_anything_runs(tmp_path, line, message):
    """column_map = 3 once reached the reader and, under rerun, removed a model's rows."""
    config = tmp_path / "lossgram.toml"
    config.write_text(line + "\n")
    with pytest.raises(SettingsError, match=re.escape(message)):
        load_settings(config, env={})


def test_toml_values_of_the_right_kind_still_load(tmp_path):
    config = tmp_path / "lossgram.toml"
    config.write_text(
        'class_weights = [1, 2.5]\nfail_on = ["OVERFIT"]\nlock_timeout = 5\n'
        'column_map = {label = "y"}\nignore_index = -100\n'
    )
    settings = load_settings(config, env={})
    assert settings.class_weights == (1.0, 2.5) and settings.fail_on == ("overfit",)
    assert settings.lock_timeout == 5.0 and settings.column_map == {"label": "y"}
