"""Session risk: how likely the customer left unhappy, from signals a QA lead checks by hand.

Risk is a fixed scorecard in log-odds points, squashed to 0..1 (a logistic function). The
weights were set by reasoning about what a service-quality lead looks at, not fitted to any
labels. Sentiment terms use the stored `sentiment` of customer turns only (P(positive), 0..1),
centred so that 0.5 adds nothing: `1 - 2·s` runs from -1 (very positive) to +1 (very negative).

| signal | points |
| --- | --- |
| base | -1.0 |
| the customer's last message (`1 - 2·sentiment_end`) | × 1.5 |
| the customer's average mood (`1 - 2·sentiment_mean`) | × 0.8 |
| the customer's worst moment (`1 - 2·sentiment_min`) | × 0.4 |
| mood got worse over the session (fitted slope × (turns - 1), capped to ±1) | × 0.75 |
| unresolved phrases (还是不行, 没解决 …): 1 customer turn 0.5, 2 or more 1.0 | × 1.0 |
| the last customer message is still unresolved | + 0.75 |
| the customer repeated a question (token overlap ≥ 0.6 with an earlier message) | + 0.75 |
| unanswered: the customer spoke last with a question, a complaint, an unresolved or escalating message, and nobody replied (`× (1 - sentiment_end)`) | × 1.0 |
| escalation: complaint channel, manager, bad review, exposure, legal, refund dispute | + 2.0 |
| escalation: only asked for a human (转人工) | + 1.0 |
| … when the customer escalated only in the opening message (before any reply) | × 0.5 |
| effort: customer messages beyond two, (n - 2) / 4 capped to 1 | × 0.4 |
| the customer closed the session: the last message thanks or confirms a fix (`closed`) | − 1.5 |

`ended_badly` is `risk ≥ 0.5` (BAD_ENDING), i.e. the evidence for an unhappy ending outweighs
the evidence against it. A session whose customer messages all score 0.5 with no other
signal gets 0.27; a single customer message scoring 0.1 gets 0.76; a neutral session whose
customer threatens a complaint after being answered gets 0.73 (0.5 if the threat was only in
the opening message).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from textmine.chats.signals import HANDOFF

BAD_ENDING = 0.5
HANDOFF_CATEGORIES = frozenset({HANDOFF})  # asking for a human is a weaker signal than a threat
WEIGHTS = {
    "base": -1.0, "end": 1.5, "mean": 0.8, "min": 0.4, "decline": 0.75, "unresolved": 1.0,
    "unresolved_at_end": 0.75, "repeated": 0.75, "unanswered": 1.0, "threat": 2.0,
    "handoff": 1.0, "opening_only": 0.5, "effort": 0.4, "closed": -1.5,
}


def _categories(value: object) -> set[str]:
    return set(value) if isinstance(value, (list, tuple, np.ndarray)) else set()


def escalation_points(reasons: pd.Series, late_reasons: pd.Series,
                      w: dict[str, float]) -> np.ndarray:
    """Threat or handoff points; halved when the customer only escalated in the opening message.

    A customer who arrives with 投诉 in the first message gave the service a chance to calm
    them; one who escalates after being answered tells us the answers did not help.
    """
    points = []
    for cats, late in zip(reasons, late_reasons, strict=True):
        cats, late = _categories(cats), _categories(late)
        if cats - HANDOFF_CATEGORIES:
            scale = 1.0 if late - HANDOFF_CATEGORIES else w["opening_only"]
            points.append(w["threat"] * scale)
        elif cats:
            points.append(w["handoff"] * (1.0 if late else w["opening_only"]))
        else:
            points.append(0.0)
    return np.array(points, dtype=float)


def session_risk(sessions: pd.DataFrame, weights: dict[str, float] | None = None) -> pd.DataFrame:
    """`risk` (0..1, NaN without customer sentiment) and `risk_reasons` for each session row."""
    w = {**WEIGHTS, **(weights or {})}

    def num(col: str) -> np.ndarray:
        return pd.to_numeric(sessions[col], errors="coerce").to_numpy(dtype=float)

    s_end, s_mean, s_min = num("sentiment_end"), num("sentiment_mean"), num("sentiment_min")
    n_cust = np.nan_to_num(num("n_customer_turns"))
    slope = np.nan_to_num(num("sentiment_trend"))
    decline = np.clip(-slope * np.maximum(n_cust - 1, 0), -1, 1)
    unresolved = np.minimum(np.nan_to_num(num("unresolved_turns")), 2) / 2
    at_end = sessions["unresolved_at_end"].fillna(False).to_numpy(dtype=bool)
    repeated = np.nan_to_num(num("repeated_questions")) > 0
    unanswered = sessions["unanswered"].fillna(False).to_numpy(dtype=bool)
    late = sessions["late_escalation_reasons"] if "late_escalation_reasons" in sessions \
        else sessions["escalation_reasons"]
    escalation = escalation_points(sessions["escalation_reasons"], late, w)
    effort = np.clip((n_cust - 2) / 4, 0, 1)
    closed = (sessions["closed"].fillna(False).to_numpy(dtype=bool) if "closed" in sessions
              else np.zeros(len(sessions), dtype=bool))

    z = (w["base"] + w["end"] * (1 - 2 * s_end) + w["mean"] * (1 - 2 * s_mean)
         + w["min"] * (1 - 2 * s_min) + w["decline"] * decline + w["unresolved"] * unresolved
         + w["unresolved_at_end"] * at_end + w["repeated"] * repeated
         + w["unanswered"] * unanswered * (1 - s_end) + escalation + w["effort"] * effort + w["closed"] * closed)
    risk = 1 / (1 + np.exp(-z))  # NaN wherever the customer never spoke (no sentiment)

    reasons = []
    for i in range(len(sessions)):
        r = []
        if s_end[i] < 0.4:
            r.append("negative_end")
        if s_mean[i] < 0.4:
            r.append("negative_overall")
        if decline[i] >= 0.3:
            r.append("worsening")
        if unresolved[i] > 0:
            r.append("unresolved")
        if repeated[i]:
            r.append("repeated_question")
        if unanswered[i]:
            r.append("unanswered")
        if escalation[i] > 0:
            r.append("escalated")
        if closed[i]:
            r.append("closed")
        reasons.append(r)
    return pd.DataFrame({"risk": risk, "risk_reasons": reasons}, index=sessions.index)
