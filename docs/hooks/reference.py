"""The docs' generated reference pages: settings from `Settings`, commands from the Typer app.

An mkdocs hook (`hooks:` in mkdocs.yml; `exclude_docs` keeps this folder out of the
site). `docs/settings.md` and `docs/cli.md` hold a marker line where the generated text
goes, so the pages are filled from the code at every build and cannot drift from it.
tests/test_docs.py calls `settings_markdown` and `cli_markdown` to check they cover every
field and command.
"""

from __future__ import annotations

import html
import inspect
import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # a build from the checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT))

MARKERS = {
    "settings.md": "<!-- generated: settings -->",
    "cli.md": "<!-- generated: commands -->",
}
CODE_SPAN = re.compile(r"(`[^`]*`)")
TYPE_NAMES = {str: "text", int: "integer", float: "number", bool: "true / false", Path: "path"}


def _escape(text: str) -> str:
    """Help text as Markdown that reads as written: HTML characters escaped, and *, _, |
    and [ ] outside `code spans` taken literally."""
    parts = []
    for part in CODE_SPAN.split(text):
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            parts.append(part.replace("|", "\\|"))
        else:
            part = html.escape(part, quote=False)
            parts.append(re.sub(r"([*_|\[\]\\])", r"\\\1", part))
    return "".join(parts)


def _type_name(annotation: Any) -> str:
    """A field's type in words: Annotated and Strict unwrapped, unions joined by "or"."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        names = [_type_name(arg) for arg in args if arg is not type(None)]
        if type(None) in args:
            names.append("none")
        return " or ".join(names)
    if origin is tuple:
        return f"list of {_type_name(args[0])}"
    if origin is dict:
        return f"table of {_type_name(args[0])} = {_type_name(args[1])}"
    return TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(value: Any) -> str:
    """A default as lossgram.toml spells it (lists as arrays); none when unset or empty."""
    if value is None or value in ((), {}):
        return "none"
    if isinstance(value, tuple):
        return f"`{json.dumps(list(value))}`"
    if value == "":
        return '`""`'
    return f"`{value}`"


def settings_markdown() -> str:
    """One table row per field of `pipeline.settings.Settings`, in declaration order."""
    from pipeline.settings import ENV_PREFIX, Settings, setting_fields

    lines = [
        "| setting and variable | type | default | help |",
        "| --- | --- | --- | --- |",
    ]
    for field in setting_fields():
        kind = _type_name(Settings.model_fields[field.name].annotation)
        name = f"`{field.name}`<br>`{ENV_PREFIX + field.name.upper()}`"
        help_text = _escape(field.metadata["help"])
        lines.append(f"| {name} | {kind} | {_default(field.default)} | {help_text} |")
    return "\n".join(lines)


def _paragraphs(text: str) -> list[str]:
    """A docstring's paragraphs, each on one line; an `Example:` paragraph as a shell block."""
    out = []
    for paragraph in inspect.cleandoc(text or "").split("\n\n"):
        joined = " ".join(paragraph.split())
        if not joined:
            continue
        if joined.startswith("Example:"):
            out.append("Example:\n\n```sh\n" + joined.removeprefix("Example:").strip() + "\n```")
        else:
            out.append(_escape(joined))
    return out


def _parameters(command: Any, context: Any) -> list[str]:
    rows = []
    for parameter in command.get_params(context):
        record = parameter.get_help_record(context)
        if record is None or parameter.name == "help":
            continue
        declaration, help_text = record
        rows.append(f"| `{declaration}` | {_escape(' '.join(help_text.split()))} |")
    if not rows:
        return []
    return ["| argument or option | meaning |", "| --- | --- |", *rows]


def cli_markdown() -> str:
    """Every command of `pipeline.cli.app.app`, as Typer builds it: usage, help, options."""
    import typer.core
    import typer.main

    from pipeline.cli.app import app

    group = typer.main.get_command(app)
    assert isinstance(group, typer.core.TyperGroup)
    root = group.context_class(group, info_name="lossgram")
    callback = app.registered_callback.callback if app.registered_callback else None
    sections = [
        "## `lossgram`",
        _escape(group.help or ""),
        *_paragraphs(inspect.getdoc(callback) or "")[1:],  # the first line repeats the help
        "```text\n" + group.get_usage(root) + "\n```",
        "\n".join(_parameters(group, root)),
    ]
    for name, command in group.commands.items():
        context = command.context_class(command, info_name=name, parent=root)
        sections += [
            f"## `lossgram {name}`",
            "```text\n" + command.get_usage(context) + "\n```",
            *_paragraphs(command.help or ""),
            "\n".join(_parameters(command, context)),
        ]
    return "\n\n".join(section for section in sections if section)


GENERATORS = {"settings.md": settings_markdown, "cli.md": cli_markdown}


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    """mkdocs: fill the marker of a generated page; a page that lost its marker fails."""
    name = page.file.src_uri
    if name not in GENERATORS:
        return markdown
    if MARKERS[name] not in markdown:
        raise ValueError(f"docs/{name} lost its marker {MARKERS[name]}")
    return markdown.replace(MARKERS[name], GENERATORS[name]())
