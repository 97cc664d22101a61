"""Precision, recall and F1 from counts: one definition for every evaluation in the project
(`newswire eval`, the labelled-set test, the native languages, stories)."""

from __future__ import annotations

from dataclasses import dataclass


class Rates:
    """Mixed into a dataclass with `tp`, `fp` and `fn` counts. A rate with nothing to count is 1.0:
    no alerts made means none was false, no alerts expected means none was missed."""

    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Counts(Rates):
    """The four counts of a yes/no judgement against labels."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def count(self, want: bool, got: bool) -> str:
        """One judgement counted: 'tp', 'fp', 'fn' or 'tn' (returned, for the caller's extras)."""
        outcome = ("tp" if got else "fn") if want else ("fp" if got else "tn")
        setattr(self, outcome, getattr(self, outcome) + 1)
        return outcome
