"""Fit verdicts: pure rules from the numbers of one (model, held-out split) comparison."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.options import Thresholds

OVERFIT, UNDERFIT, GOOD_FIT, INSUFFICIENT = "overfit", "underfit", "good_fit", "insufficient_data"


class Missing(enum.Enum):
    """No epoch in common: the comparison cannot be made."""

    MISSING = "missing"


MISSING = Missing.MISSING


@dataclass(frozen=True)
class Evidence:
    """The numbers behind a verdict (train = reference split)."""

    n_reference: int
    n_heldout: int
    mean_reference: float
    mean_heldout: float
    gap_ci_low: float
    gap_ci_high: float
    prior_entropy: float  # H of the reference split's labels, nats
    epoch: int | None = None
    best_epoch: int | None = None  # lowest held-out loss, when epochs exist

    @property
    def gap(self) -> float:
        return self.mean_heldout - self.mean_reference

    @property
    def normalised_gap(self) -> float | None:
        return self.gap / self.prior_entropy if self.prior_entropy > 0 else None


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    hints: tuple[str, ...]


def decide(evidence: Evidence, thresholds: Thresholds) -> Verdict:
    """insufficient_data, then underfit, then overfit, else good_fit."""
    smallest = min(evidence.n_reference, evidence.n_heldout)
    if smallest < thresholds.min_samples:
        return Verdict(
            INSUFFICIENT,
            f"a split has {smallest} samples, fewer than the {thresholds.min_samples} needed",
            ("dump more samples per split",),
        )
    entropy = evidence.prior_entropy
    if entropy <= 0:
        return Verdict(
            INSUFFICIENT,
            "the reference labels hold a single class, so there is nothing to learn",
            ("check the reference split's labels",),
        )
    share = evidence.mean_reference / entropy
    if share >= thresholds.underfit_ratio:
        return Verdict(
            UNDERFIT,
            f"mean train loss {evidence.mean_reference:.3f} is {share:.0%} of the label entropy"
            f" H = {entropy:.3f}: the model keeps {max(1 - share, 0):.0%} of what the labels"
            " could tell it",
            (
                "add capacity (a larger model or better features)",
                "train longer or with a higher learning rate",
                "lower the regularisation",
            ),
        )
    normalised = evidence.gap / entropy
    if normalised >= thresholds.overfit_gap and evidence.gap_ci_low > 0:
        hints = ["strengthen regularisation (weight decay, dropout, smaller trees)"]
        if evidence.best_epoch is not None and evidence.best_epoch != evidence.epoch:
            hints.append(
                f"stop early: held-out loss was lowest at epoch {evidence.best_epoch}"
                f" (this is epoch {evidence.epoch})"
            )
        else:
            hints.append("use early stopping on the held-out loss")
        hints.append("train on more data or augment it")
        return Verdict(
            OVERFIT,
            f"held-out loss exceeds train loss by {evidence.gap:.3f} nats = {normalised:.0%} of H"
            f" (threshold {thresholds.overfit_gap:.0%}), 95% CI"
            f" [{evidence.gap_ci_low:.3f}, {evidence.gap_ci_high:.3f}] above 0",
            tuple(hints),
        )
    return Verdict(
        GOOD_FIT,
        f"train loss is {share:.0%} of H and the held-out gap is"
        f" {normalised:.0%} of H (CI [{evidence.gap_ci_low:.3f}, {evidence.gap_ci_high:.3f}])",
        (),
    )


def judged_epoch(
    reference_epochs: Sequence[int | None], heldout_epochs: Sequence[int | None]
) -> int | Missing | None:
    """The epoch a comparison judges: the latest epoch both splits have (None when the
    dumps have no epochs), or MISSING when they have none in common."""
    common = set(reference_epochs) & set(heldout_epochs)
    if not common:
        return MISSING
    numbered = [epoch for epoch in common if epoch is not None]
    return max(numbered) if numbered else None


def best_epoch(epochs: Sequence[int | None], mean_losses: Sequence[float]) -> int | None:
    """The epoch with the lowest held-out mean loss (the earliest of ties)."""
    numbered = [(loss, epoch) for epoch, loss in zip(epochs, mean_losses, strict=True)]
    numbered = [(loss, epoch) for loss, epoch in numbered if epoch is not None]
    return min(numbered)[1] if numbered else None
