"""One definition of the counts and the rates of every evaluation."""

from __future__ import annotations

from services.offline.rates import Counts


def test_each_judgement_lands_in_its_count_and_rates_follow() -> None:
    c = Counts()
    outcomes = [
        c.count(w, g) for w, g in [(True, True), (True, True), (False, True), (True, False)]
    ]
    outcomes.append(c.count(False, False))
    assert outcomes == ["tp", "tp", "fp", "fn", "tn"]
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 1, 1)
    assert c.precision == 2 / 3 and c.recall == 2 / 3
    assert abs(c.f1 - 2 / 3) < 1e-12


def test_nothing_to_count_is_a_rate_of_one() -> None:
    assert Counts().precision == 1.0 and Counts().recall == 1.0
