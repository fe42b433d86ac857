"""The canonical frame of a dump: the file's columns renamed, filled and checked.

Problems visible in the schema (missing or doubled columns, wrong dtypes) raise
`DumpError` here, from the footer alone. Problems in the data (NaN logits, labels out
of range, rows not summing to 1, duplicate ids, ...) become boolean `_bad_*` columns
on the frame, counted in the same single pass that computes the losses.
"""

from __future__ import annotations

from pipeline.contract import identity, params, scores, targets
from pipeline.contract.problems import DumpError
from pipeline.contract.source import BINARY_COLUMNS, Draft, Dump, Source


def build_dump(source: Source) -> Dump:
    """Run the contract's steps on one source; raise DumpError for schema problems."""
    draft = Draft(source.n_rows)
    identity.identity_columns(source, draft)
    kind = scores.prediction_kind(source, draft)
    n_classes = scores.class_count(source, kind)
    classes = scores.class_names(source, draft, n_classes)
    if kind is not None:
        scores.prediction(source, draft, kind, n_classes)
        targets.target(source, draft, kind, n_classes, classes)
    targets.weight(source, draft)
    params.check_params(source, draft)
    if draft.problems:
        raise DumpError(source.path, draft.problems)
    identity.duplicates(source, draft)

    frame = source.frame.with_columns(**draft.raw_flags).with_columns(**draft.canonical)
    if draft.later_flags:
        frame = frame.with_columns(**draft.later_flags)
    replaced = [name for name in BINARY_COLUMNS if name in source.schema]
    return Dump(source.path, frame.drop(replaced), tuple(draft.checks), source.n_rows)
