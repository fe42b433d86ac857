"""Settings precedence (defaults < toml < env < flags) and that every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.settings import SettingsError, load_settings, setting_fields
from tests.helpers.paths import README


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
        if line.startswith("# ") and " = " in line and "unset by default" not in line
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


def test_each_source_in_its_place(tmp_path):
    """Defaults < lossgram.toml < LOSSGRAM_* env < flags, one setting per step."""
    config = tmp_path / "lossgram.toml"
    config.write_text("seed = 1\nmin_samples = 5\nece_bins = 7\n")
    env = {"LOSSGRAM_MIN_SAMPLES": "6", "LOSSGRAM_ECE_BINS": "8"}
    settings = load_settings(config, env=env, overrides={"ece_bins": 9, "split": None})
    assert settings.bootstrap_resamples == 1000 and settings.split is None  # the defaults
    assert settings.seed == 1  # the file beats the default
    assert settings.min_samples == 6  # the environment beats the file
    assert settings.ece_bins == 9  # a flag beats the environment
    assert load_settings(config, env={}).ece_bins == 7


def test_a_plain_settings_object_reads_neither_environment_nor_file(tmp_path, monkeypatch):
    from pipeline.settings import Settings

    monkeypatch.chdir(tmp_path)
    (tmp_path / "lossgram.toml").write_text("seed = 4\n")
    monkeypatch.setenv("LOSSGRAM_EPS", "1e-3")
    assert Settings() == Settings(seed=0, eps=1e-12)
    assert load_settings().seed == 4 and load_settings().eps == 1e-3


CANNOT_READ_LOTS = "setting eps: cannot read 'lots': could not convert string to float: 'lots'"


@pytest.mark.parametrize(
    ("source", "where"),
    [("flag", "--eps"), ("env", "LOSSGRAM_EPS"), ("toml", "{config}")],
)
def test_an_error_is_one_line_naming_the_setting_and_its_source(tmp_path, source, where):
    config = tmp_path / "lossgram.toml"
    config.write_text("eps = 'lots'\n" if source == "toml" else "")
    env = {"LOSSGRAM_EPS": "lots"} if source == "env" else {}
    flags = {"eps": "lots"} if source == "flag" else {}
    with pytest.raises(SettingsError) as raised:
        load_settings(config, env=env, overrides=flags)
    assert str(raised.value) == f"{CANNOT_READ_LOTS} (from {where.format(config=config)})"


@pytest.mark.parametrize(
    ("env", "flags", "said"),
    [
        (
            {"LOSSGRAM_LABEL_SMOOTHING": "1.5"},
            {},
            "label_smoothing must be in [0, 1), got 1.5 (from LOSSGRAM_LABEL_SMOOTHING)",
        ),
        (
            {},
            {"column_map": "label"},
            "setting column_map: cannot read 'label': entry 'label' is not of the form "
            "canonical=source (from --map)",
        ),
        (
            {},
            {"fail_on": "overfit,sometimes"},
            "fail_on: unknown sometimes (use overfit, possible_overfit, underfit, "
            "insufficient_data, regressed) (from --fail-on)",
        ),
        (
            {"LOSSGRAM_WAREHOUSE": "s3://"},
            {},
            "setting warehouse: cannot read 's3://': 's3://' is not a URI like "
            "s3://bucket/prefix (from LOSSGRAM_WAREHOUSE)",
        ),
        (
            {"LOSSGRAM_SEED": "1.5"},
            {},
            "setting seed: cannot read '1.5': invalid literal for int() with base 10: '1.5' "
            "(from LOSSGRAM_SEED)",
        ),
        ({}, {"colour": "red"}, "unknown setting 'colour' (from --colour)"),
    ],
)
def test_errors_keep_lossgrams_words_not_pydantics(tmp_path, env, flags, said):
    env = {**env, "LOSSGRAM_CONFIG": str(tmp_path / "none.toml")}
    with pytest.raises(SettingsError) as raised:
        load_settings(None, env=env, overrides=flags)
    assert str(raised.value) == said


def test_a_bad_value_in_the_file_is_refused_even_when_the_environment_hides_it(tmp_path):
    """The nightly job may run without the variable that hid it."""
    config = tmp_path / "lossgram.toml"
    config.write_text("eps = 'lots'\n")
    with pytest.raises(SettingsError, match=r"setting eps: .* \(from .*lossgram\.toml\)$"):
        load_settings(config, env={"LOSSGRAM_EPS": "1e-6"})


def test_settings_made_in_code_fail_in_one_line_too():
    from pipeline.base.errors import LossgramError
    from pipeline.settings import Settings

    for arguments, said in [
        ({"engine": "flink"}, "engine must be duckdb or spark, got 'flink'"),
        ({"eps": None}, "setting eps: expected a number, got None"),
        ({"colour": "red"}, "unknown setting 'colour'"),
    ]:
        with pytest.raises(LossgramError) as raised:
            Settings(**arguments)
        assert isinstance(raised.value, SettingsError) and str(raised.value) == said


def test_every_setting_has_its_help_and_names_are_exact(tmp_path):
    """The help is each field's docstring; a TOML key is matched exactly, as before."""
    helps = [spec.metadata["help"] for spec in setting_fields()]
    assert all(len(help) > 20 and "\n" not in help and help != "None" for help in helps)
    config = tmp_path / "lossgram.toml"
    config.write_text("EPS = 0.5\n")
    with pytest.raises(SettingsError, match=r"^unknown setting 'EPS' \(from .*lossgram\.toml\)$"):
        load_settings(config, env={})


def test_callers_see_the_same_types():
    from pipeline.settings import Settings

    settings = Settings(warehouse="s3://bucket/prefix/", class_weights=[1, 2], inbox="in")
    assert settings.warehouse == "s3://bucket/prefix" and settings.inbox == Path("in")
    assert settings.class_weights == (1.0, 2.0) and settings.heldout_splits == ("test", "val")
    assert Settings(warehouse="file://wh").warehouse == Path("wh")
    assert isinstance(Settings().warehouse, Path) and Settings().catalog is None


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        # each once computed NaN losses, hung a run or turned a verdict into good_fit
        ("CLASS_WEIGHTS", "1,nan,2", "class_weights must be >= 0 and finite"),
        ("CLASS_WEIGHTS", "1,inf", "class_weights must be >= 0 and finite"),
        ("LINEAR_BIN_WIDTH", "0", "linear_bin_width must be a finite number > 0"),
        ("LINEAR_BIN_WIDTH", "-1", "linear_bin_width must be a finite number > 0"),
        ("LINEAR_BIN_WIDTH", "nan", "linear_bin_width must be a finite number > 0"),
        ("LINEAR_BIN_WIDTH", "1e-9", "bins, more than 10000: widen the bins"),
        ("BOOTSTRAP_RESAMPLES", "0", "bootstrap_resamples must be in [1, 100000]"),
        ("BOOTSTRAP_RESAMPLES", "100000000", "bootstrap_resamples must be in [1, 100000]"),
        ("BOOTSTRAP_MAX_SAMPLES", "0", "bootstrap_max_samples must be >= 1"),
        ("LOCK_TIMEOUT", "nan", "lock_timeout must be a finite number of seconds >= 0"),
        ("MIN_SAMPLES", "-5", "min_samples must be >= 1"),
        ("UNDERFIT_RATIO", "nan", "underfit_ratio must be a finite number > 0"),
        ("OVERFIT_GAP", "nan", "overfit_gap must be a finite number >= 0"),
        ("ECE_BINS", "0", "ece_bins must be in [1, 1000]"),
        ("SEED", "-1", "seed must be >= 0"),
        ("DUCKDB_MEMORY_LIMIT", "1MB", "duckdb_memory_limit must be a size such as 2GB"),
        ("DUCKDB_MEMORY_LIMIT", "lots", "duckdb_memory_limit must be a size such as 2GB"),
        ("WAREHOUSE", "memory://x", "memory:// is not durable storage for a warehouse"),
        ("WAREHOUSE", "zip://a", "zip:// is not durable storage for a warehouse"),
    ],
)
def test_values_that_would_break_a_run_are_refused_at_load(tmp_path, variable, value, said):
    env = {f"LOSSGRAM_{variable}": value, "LOSSGRAM_CONFIG": str(tmp_path / "none.toml")}
    with pytest.raises(SettingsError) as raised:
        load_settings(env=env)
    assert said in str(raised.value) and "\n" not in str(raised.value)


def test_good_edge_values_still_load(tmp_path):
    env = {
        "LOSSGRAM_CONFIG": str(tmp_path / "none.toml"),
        "LOSSGRAM_CLASS_WEIGHTS": "0,1.5",
        "LOSSGRAM_DUCKDB_MEMORY_LIMIT": "512MiB",
        "LOSSGRAM_SEED": "0",
        "LOSSGRAM_LOCK_TIMEOUT": "0",
    }
    settings = load_settings(env=env)
    assert settings.class_weights == (0.0, 1.5) and settings.duckdb_memory_limit == "512MiB"


def test_the_warehouse_is_a_folder_not_a_file(tmp_path):
    catalog = tmp_path / "lossgram.duckdb"
    catalog.write_bytes(b"")
    env = {"LOSSGRAM_WAREHOUSE": str(catalog), "LOSSGRAM_CONFIG": str(tmp_path / "none.toml")}
    with pytest.raises(SettingsError, match="is a file: the warehouse is the folder"):
        load_settings(env=env)


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("\ufeffeps = 0.1".encode("utf-16"), "not UTF-8 text"),
        (("a = " + "[" * 5000 + "]" * 5000).encode(), "nested too deeply"),
    ],
)
def test_config_files_lossgram_cannot_read_are_one_line(tmp_path, content, said):
    config = tmp_path / "lossgram.toml"
    config.write_bytes(content)
    with pytest.raises(SettingsError, match=said):
        load_settings(config_file=config, env={})


def test_a_config_that_is_a_folder_is_refused(tmp_path):
    with pytest.raises(SettingsError, match="is not a regular file"):
        load_settings(config_file=tmp_path, env={})


def test_the_project_config_is_found_from_a_sub_folder(tmp_path, monkeypatch):
    """As git finds its repository: lossgram.toml in a folder above, its folders (and the
    default ones) relative to it, so `lossgram sql` works from notebooks/."""
    (tmp_path / "lossgram.toml").write_text('reports = "site"\n')
    deep = tmp_path / "notebooks" / "deep"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    settings = load_settings(env={})
    assert settings.reports == tmp_path / "site"
    assert settings.warehouse == tmp_path / "data" / "warehouse"
    assert settings.inbox == tmp_path / "data" / "inbox"


def test_each_line_of_the_init_file_uncommented_alone_is_valid(tmp_path):
    """A placeholder uncommented once gave invalid TOML (`# split =   (unset by default)`):
    every setting line, uncommented, must load."""
    from pipeline.settings import commented_toml

    lines = [line for line in commented_toml().splitlines() if re.match(r"# [a-z_]+ = ", line)]
    assert len(lines) == len(setting_fields())
    config = tmp_path / "lossgram.toml"
    for line in lines:
        config.write_text(line.removeprefix("# ") + "\n")
        load_settings(config_file=config, env={})  # raises on a line that does not load
