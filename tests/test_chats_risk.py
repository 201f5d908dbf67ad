"""Session risk: a fixed scorecard; each signal a QA lead checks moves it the expected way."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from textmine.chats import BAD_ENDING, session_risk


def one(**signals) -> dict:
    base = {"sentiment_start": 0.5, "sentiment_end": 0.5, "sentiment_min": 0.5,
            "sentiment_mean": 0.5, "sentiment_trend": 0.0, "n_customer_turns": 2,
            "unresolved_turns": 0, "unresolved_at_end": False, "repeated_questions": 0,
            "unanswered": False, "escalation_reasons": None, "late_escalation_reasons": None}
    return {**base, **signals}


def risk(**signals) -> float:
    return float(session_risk(pd.DataFrame([one(**signals)]))["risk"].iloc[0])


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def test_documented_reference_points() -> None:
    assert risk() == pytest.approx(sigmoid(-1.0))  # 0.27: nothing points either way
    assert risk() < BAD_ENDING
    angry = dict(sentiment_start=0.1, sentiment_end=0.1, sentiment_min=0.1, sentiment_mean=0.1,
                 n_customer_turns=1)
    assert risk(**angry) == pytest.approx(0.76, abs=0.01)
    assert risk(escalation_reasons=["投诉"], late_escalation_reasons=["投诉"]) == pytest.approx(0.73, abs=0.01)
    assert risk(escalation_reasons=["投诉"], late_escalation_reasons=[]) == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("signal, worse, better", [
    ("sentiment_end", 0.1, 0.9),
    ("sentiment_mean", 0.2, 0.8),
    ("sentiment_min", 0.0, 0.6),
    ("sentiment_trend", -0.3, 0.3),
    ("unresolved_turns", 2, 0),
    ("unresolved_at_end", True, False),
    ("repeated_questions", 1, 0),
    ("unanswered", True, False),
    ("n_customer_turns", 6, 2),
    ("closed", False, True),
])
def test_each_signal_moves_risk_the_expected_way(signal: str, worse, better) -> None:
    assert risk(**{signal: worse}) > risk(**{signal: better})


def test_escalation_threats_weigh_more_than_a_handoff_and_late_more_than_opening() -> None:
    late_threat = risk(escalation_reasons=["曝光"], late_escalation_reasons=["曝光"])
    opening_threat = risk(escalation_reasons=["投诉"], late_escalation_reasons=[])
    late_handoff = risk(escalation_reasons=["转人工"], late_escalation_reasons=["转人工"])
    opening_handoff = risk(escalation_reasons=["转人工"], late_escalation_reasons=[])
    assert late_threat > opening_threat > opening_handoff
    assert late_threat > late_handoff > opening_handoff > risk()


def test_an_unanswered_closing_thanks_matters_less_than_an_unanswered_complaint() -> None:
    thanks = risk(unanswered=True, sentiment_end=0.9) - risk(sentiment_end=0.9)
    complaint = risk(unanswered=True, sentiment_end=0.1) - risk(sentiment_end=0.1)
    assert 0 < thanks < complaint


def test_a_happy_ending_outweighs_an_early_complaint() -> None:
    recovered = risk(sentiment_start=0.05, sentiment_min=0.05, sentiment_end=0.95,
                     sentiment_mean=0.5, sentiment_trend=0.45, n_customer_turns=3)
    soured = risk(sentiment_start=0.95, sentiment_min=0.05, sentiment_end=0.05,
                  sentiment_mean=0.5, sentiment_trend=-0.45, n_customer_turns=3)
    assert recovered < BAD_ENDING < soured


def test_no_customer_sentiment_means_no_risk_and_reasons_are_named() -> None:
    frame = pd.DataFrame([one(sentiment_end=np.nan, sentiment_mean=np.nan, sentiment_min=np.nan,
                              n_customer_turns=0),
                          one(sentiment_end=0.1, unresolved_turns=1, unanswered=True,
                              escalation_reasons=["曝光"], late_escalation_reasons=["曝光"])])
    scored = session_risk(frame)
    assert np.isnan(scored["risk"].iloc[0])
    assert scored["risk"].iloc[1] > 0.9
    assert scored["risk_reasons"].iloc[1] == ["negative_end", "unresolved", "unanswered", "escalated"]
