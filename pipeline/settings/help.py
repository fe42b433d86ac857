"""Each setting's help: the docstring under its field of Settings, read from the source
when it is asked for (`lossgram init`, the docs), not by every command as it starts."""

from __future__ import annotations

import ast
import inspect
import itertools
import textwrap


def attribute_docstrings(cls: type) -> dict[str, str]:
    """{name: docstring} of the annotated attributes of cls that a string literal follows,
    each cleaned as pydantic's `use_attribute_docstrings` would. Pydantic reads them by
    parsing the class source at import, ~30 ms of every command's start."""
    source = textwrap.dedent(inspect.getsource(cls))
    body = next(node for node in ast.parse(source).body if isinstance(node, ast.ClassDef)).body
    return {
        statement.target.id: inspect.cleandoc(following.value.value)
        for statement, following in itertools.pairwise(body)
        if isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and isinstance(following, ast.Expr)
        and isinstance(following.value, ast.Constant)
        and isinstance(following.value.value, str)
    }
