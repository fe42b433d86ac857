"""Fit verdicts: pure rules from the numbers of one (model, held-out split) comparison."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.base.options import Thresholds

OVERFIT, UNDERFIT, GOOD_FIT, INSUFFICIENT = "overfit", "underfit", "good_fit", "insufficient_data"
# The gap / H is over the threshold but its interval reaches 0: no evidence either way.
POSSIBLE_OVERFIT = "possible_overfit"
VERDICTS = (OVERFIT, POSSIBLE_OVERFIT, UNDERFIT, GOOD_FIT, INSUFFICIENT)
# Losses at the clip cap -ln(eps) (a probability of 0 for the true class): from this share
# of a split's samples, or of the held-out mean loss, the gap in nats hangs on eps, so the
# reason says so and gives the error rates.
CLIPPED_SHARE = 0.05
CLIPPED_LOSS_SHARE = 0.5
# Hints beyond the verdict, each only on its own evidence: a held-out ECE from this up
# suggests calibration; held-out samples whose true class got less than CONFIDENTLY_WRONG_P
# (loss above -ln of it), at least LABEL_CHECK_SHARE of the split, suggest a label check.
HIGH_ECE = 0.05
CONFIDENTLY_WRONG_P = 0.05
LABEL_CHECK_SHARE = 0.005


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
    label_entropy: float  # H of the reference split's labels, nats
    epoch: int | None = None
    best_epoch: int | None = None  # lowest held-out loss, when epochs exist
    has_epochs: bool = False  # the held-out split was dumped at several epochs
    ece_heldout: float | None = None
    confidently_wrong: int = 0  # held-out samples with p_true < CONFIDENTLY_WRONG_P
    accuracy_reference: float | None = None
    accuracy_heldout: float | None = None
    clipped_reference: int = 0  # losses at the clip cap -ln(eps)
    clipped_heldout: int = 0
    max_heldout: float | None = None  # the clip cap itself when a held-out loss is clipped

    @property
    def gap(self) -> float:
        return self.mean_heldout - self.mean_reference

    @property
    def error_gap(self) -> float | None:
        """Held-out error rate minus the reference's (accuracy is over the samples whose
        label is a class index; None without it)."""
        if self.accuracy_reference is None or self.accuracy_heldout is None:
            return None
        return self.accuracy_reference - self.accuracy_heldout

    @property
    def clipped_share(self) -> float:
        """The larger share of a split's losses at the clip cap."""
        return max(
            self.clipped_reference / max(self.n_reference, 1),
            self.clipped_heldout / max(self.n_heldout, 1),
        )

    @property
    def clipped_loss_share(self) -> float:
        """The share of the held-out mean loss that its losses at the clip cap make."""
        if not self.clipped_heldout or not self.max_heldout or self.mean_heldout <= 0:
            return 0.0
        cap_total = self.clipped_heldout * self.max_heldout / max(self.n_heldout, 1)
        return min(cap_total / self.mean_heldout, 1.0)

    @property
    def normalised_gap(self) -> float | None:
        return self.gap / self.label_entropy if self.label_entropy > 0 else None


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    hints: tuple[str, ...]


def decide(evidence: Evidence, thresholds: Thresholds) -> Verdict:
    """insufficient_data, then underfit, then overfit (gap / H over the threshold and its
    interval above 0), then possible_overfit (over the threshold, the interval reaching
    0), else good_fit. The calibration and label hints, and a note when many losses sit
    at the clip cap, join any verdict but insufficient_data when their evidence is there."""
    verdict = _fit(evidence, thresholds)
    if verdict.verdict == INSUFFICIENT:
        return verdict
    reason = verdict.reason + _clipping_note(evidence)
    return Verdict(verdict.verdict, reason, verdict.hints + _evidence_hints(evidence))


def _clipping_note(evidence: Evidence) -> str:
    """When many losses sit at the clip cap, the gap in nats measures eps as much as the
    model: say so, with the gap in error rate beside it."""
    if evidence.clipped_share < CLIPPED_SHARE and evidence.clipped_loss_share < CLIPPED_LOSS_SHARE:
        return ""
    note = (
        f"; {evidence.clipped_reference} train and {evidence.clipped_heldout} held-out"
        f" losses sit at the clip cap -ln(eps) (probability 0 for the true class), making"
        f" {evidence.clipped_loss_share:.0%} of the held-out mean, so the gap in nats"
        " depends on eps"
    )
    if evidence.error_gap is not None and evidence.accuracy_reference is not None:
        held = 1 - (evidence.accuracy_heldout or 0.0)
        note += (
            f": the error rate is {1 - evidence.accuracy_reference:.1%} on train and"
            f" {held:.1%} held out, a gap of {evidence.error_gap * 100:+.1f} points"
        )
    return note


def _evidence_hints(evidence: Evidence) -> tuple[str, ...]:
    hints = []
    if evidence.ece_heldout is not None and evidence.ece_heldout >= HIGH_ECE:
        hints.append(
            f"calibrate the probabilities (e.g. temperature scaling fitted on held-out data):"
            f" held-out ECE = {evidence.ece_heldout:.3f}"
        )
    wrong = evidence.confidently_wrong
    if wrong and wrong >= LABEL_CHECK_SHARE * evidence.n_heldout:
        hints.append(
            f"check the labels of the {wrong} held-out samples whose true class got"
            f" p < {CONFIDENTLY_WRONG_P:g} (the highest-loss table lists them): confidently"
            " wrong predictions are often label errors"
        )
    return tuple(hints)


def _fit(evidence: Evidence, thresholds: Thresholds) -> Verdict:
    smallest = min(evidence.n_reference, evidence.n_heldout)
    if smallest < thresholds.min_samples:
        return Verdict(
            INSUFFICIENT,
            f"a split has {smallest} samples, fewer than the {thresholds.min_samples} needed",
            ("dump more samples per split",),
        )
    entropy = evidence.label_entropy
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
                "train longer",
                "lower the regularisation",
            ),
        )
    normalised = evidence.gap / entropy
    if normalised >= thresholds.overfit_gap and evidence.gap_ci_low > 0:
        # No model family is named: the dump does not say what the model is.
        hints = ["strengthen regularisation or reduce capacity"]
        if evidence.best_epoch is not None and evidence.best_epoch != evidence.epoch:
            hints.append(
                f"stop early: held-out loss was lowest at epoch {evidence.best_epoch}"
                f" (this is epoch {evidence.epoch})"
            )
        elif not evidence.has_epochs:
            hints.append("dump an epoch column to see where the held-out loss turns up")
        hints.append("train on more data or augment it")
        return Verdict(
            OVERFIT,
            f"held-out loss exceeds train loss by {evidence.gap:.3f} nats = {normalised:.0%} of H"
            f" (threshold {thresholds.overfit_gap:.0%}), 95% CI"
            f" [{evidence.gap_ci_low:.3f}, {evidence.gap_ci_high:.3f}] above 0",
            tuple(hints),
        )
    if normalised >= thresholds.overfit_gap:  # over the threshold, not confirmed
        return Verdict(
            POSSIBLE_OVERFIT,
            f"held-out loss exceeds train loss by {evidence.gap:.3f} nats = {normalised:.0%}"
            f" of H (threshold {thresholds.overfit_gap:.0%}), but its 95% CI"
            f" [{evidence.gap_ci_low:.3f}, {evidence.gap_ci_high:.3f}] reaches 0: not yet"
            " evidence of overfitting, nor of a good fit",
            (
                "dump more held-out samples: the interval narrows with them",
                "watch the next nights: a gap that stays is evidence",
            ),
        )
    return Verdict(
        GOOD_FIT,
        f"train loss is {share:.0%} of H and the held-out gap is {evidence.gap:.3f} nats"
        f" = {normalised:.0%} of H (95% CI [{evidence.gap_ci_low:.3f},"
        f" {evidence.gap_ci_high:.3f}] nats)",
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
