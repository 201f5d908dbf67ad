"""Per-turn chat signals: only customer turns carry sentiment; escalation and unresolved phrases."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from textmine.lexicons import Lexicons
from textmine.pipeline import NON_CUSTOMER_ROLES, Resources, Stage, register
from textmine.sentiment.lexicon import LexiconScorer

# Columns that describe the customer's opinion; on agent/bot/system turns they are NULL, so no
# query over `documents` can count an agent's "非常抱歉" as a customer's mood or complaint.
# (`pipeline.run_stages` already skips those turns in the opinion stages; clearing here also
# covers stage lists assembled by hand.)
CUSTOMER_ONLY = ("sentiment", "polarity", "is_complaint", "aspects")
# A negation right before an escalation phrase cancels it: 不会给差评, 不用转人工, 没有投诉,
# 不是要投诉你们. A threat after a condition (不解决就投诉, 别逼我投诉) still counts.
_NEGATED = re.compile(r"(?:不|没|别|未|无需|不必|不用)(?:会|想|要|用|是|有|打算|需要|必)?"
                      r"(?:去|来|给|打|找)?(?:你们|你|您|他们|他)?\s*$")


# A question to the service: a question mark, a final 吗/呢, or a question word.
QUESTION = (r"[?？]|[吗呢么嘛][\s!！~。.]*$|怎么|为什么|为啥|什么时候|多久|能不能|可不可以|是不是|"
            r"有没有|哪里|几天")
# Asking for something: thanks in the same message is politeness, not a closing.
REQUEST = r"(?<!申)请(?!问)|麻烦(?:你|您)?(?:帮|给|尽快|处理|看)|希望|尽快|赶快|赶紧|求解|帮我|帮忙"
_SHORT_ACK = 16  # 好的 opening a message this short acknowledges an answer
NO_OPINION_WEIGHT = 0.3  # log-odds scale of a customer message without any opinion evidence
CLOSING_FLOOR = 0.7  # a closing message (好的谢谢, 解决了) is at least this positive
RESIGNED_CEILING = 0.3  # a customer who gives up (好吧, 呵呵) is at most this positive
HANDOFF = "转人工"  # the escalation category of a bare request for a human
_NOT_WORD = r"[\s\W_]+"
_BARE_MAX = 12  # a bare 人工！ is short; longer messages go through the phrase list only


@dataclass(frozen=True)
class ChatPatterns:
    """Compiled phrase lists of one lexicon set (built once per process)."""

    escalation: re.Pattern[str] | None
    category_of: dict[str, str]
    unresolved: re.Pattern[str] | None
    human: frozenset[str]  # a message that is only 人工 / 客服 asks for a human
    closing: re.Pattern[str] | None = None  # any closing phrase (a cheap first filter)
    thanks: re.Pattern[str] | None = None
    resolved: re.Pattern[str] | None = None
    resigned: re.Pattern[str] | None = None
    opening: re.Pattern[str] | None = None  # acknowledgements that open a message (好的 …)
    contrast: re.Pattern[str] | None = None
    question: re.Pattern[str] = re.compile(QUESTION)
    request: re.Pattern[str] = re.compile(REQUEST)


def _alternation(phrases: list[str]) -> re.Pattern[str] | None:
    if not phrases:
        return None
    # Longest first so 打电话投诉 wins over 投诉; digit phrases (12315) never match inside a
    # longer number such as an order number.
    parts = [rf"(?<!\d){re.escape(p)}(?!\d)" if p.isdigit() else re.escape(p)
             for p in sorted(set(phrases), key=len, reverse=True)]
    # A lookahead on the possible first characters lets the scan skip most positions at once
    # (measured 3.6x faster on helpdesk turns than the bare alternation).
    first = "".join(sorted({re.escape(p[0]) for p in phrases}))
    return re.compile(f"(?=[{first}])(?:{'|'.join(parts)})")


def chat_patterns(lexicons: Lexicons) -> ChatPatterns:
    """Escalation phrases (with their category) and unresolved phrases as regexes."""
    category_of = {p: cat for cat, phrases in lexicons.escalation.items() for p in phrases}
    # Only names of a person (人工, 客服 …): a bare 售后 typed to a bot menu picks a topic.
    human = frozenset(a.lower() for a in [*lexicons.roles.get("agent", []), "真人", "人工服务"]
                      if "人工" in a or "客服" in a or a == "真人")
    closing = {cat: [p.lower() for p in phrases] for cat, phrases in lexicons.closing.items()}
    opening = closing.get("ok", [])
    return ChatPatterns(
        _alternation(list(category_of)), category_of, _alternation(list(lexicons.unresolved)),
        human, _alternation([p for phrases in closing.values() for p in phrases]),
        _alternation(closing.get("thanks", [])), _alternation(closing.get("resolved", [])),
        _alternation(closing.get("resigned", [])),
        re.compile("|".join(map(re.escape, sorted(opening, key=len, reverse=True))))
        if opening else None,
        _alternation(sorted(lexicons.contrast)))


def _patterns(resources: Resources) -> ChatPatterns:
    if "chat_patterns" not in resources.extra:
        resources.extra["chat_patterns"] = chat_patterns(resources.lexicons)
    return resources.extra["chat_patterns"]


def escalation_categories(text: str, patterns: ChatPatterns) -> list[str] | None:
    """Escalation categories a customer's message raises (转人工, 投诉 …), negated ones skipped."""
    if patterns.escalation is None:
        return None
    found: list[str] = []
    for match in patterns.escalation.finditer(text):
        if _NEGATED.search(text[max(0, match.start() - 8):match.start()]):
            continue
        category = patterns.category_of[match.group(0)]
        if category not in found:
            found.append(category)
    return found or None


def customer_mask(roles: pd.Series) -> np.ndarray:
    """Customer turns; a turn with no role (a file without a speaker column) counts as one."""
    return ~roles.isin(NON_CUSTOMER_ROLES).to_numpy(dtype=bool)


def _scorer(resources: Resources) -> LexiconScorer:
    """The rules scorer the sentiment model already holds (its clause cache is warm), or one."""
    model = resources.sentiment_model
    scorer = model if isinstance(model, LexiconScorer) else getattr(model, "lexicon_scorer", None)
    if scorer is None:
        scorer = resources.extra.get("chat_scorer")
        if scorer is None:
            scorer = resources.extra["chat_scorer"] = LexiconScorer(resources.lexicons)
    return scorer


def opinion_evidence(words: pd.Series, scorer: LexiconScorer) -> np.ndarray:
    """True where some clause holds an opinion word the rules scorer knows (incl. rhetoric)."""
    return np.array([w is not None and any(span[2] for span in scorer.cached_spans(w))
                     for w in words.tolist()], dtype=bool)


def _last_end(pattern: re.Pattern[str] | None, text: str) -> int:
    """End of the last match of `pattern` in `text` (-1: none)."""
    if pattern is None:
        return -1
    return max((m.end() for m in pattern.finditer(text)), default=-1)


def _closes(text: str, patterns: ChatPatterns) -> bool:
    """The message ends on a closing note.

    - a resolution (解决了, 可以了) or thanks (谢谢) that is not negated and comes after every
      question, unresolved or escalation phrase and contrast word in the message
      (好的,但是还是不行 does not close; 还是老样子… 谢了 已经成功安装 does);
    - thanks in a message that asks for something (请尽快解决,谢谢) is politeness, not a close.
    """
    blockers = (patterns.question, patterns.unresolved, patterns.escalation, patterns.contrast)
    last_blocker = max(_last_end(p, text) for p in blockers)
    for pattern, polite in ((patterns.resolved, False), (patterns.thanks, True)):
        if pattern is None or (polite and patterns.request.search(text)):
            continue
        starts = [m.start() for m in pattern.finditer(text)
                  if not _NEGATED.search(text[max(0, m.start() - 4):m.start()])]
        if starts and max(starts) >= last_blocker:
            return True
    return False


def _acknowledges(text: str, patterns: ChatPatterns) -> bool:
    """A short one-line message that opens with an acknowledgement (好的, 嗯嗯 …) and holds no
    question, unresolved or escalation phrase or contrast word."""
    blockers = (patterns.question, patterns.unresolved, patterns.escalation, patterns.contrast)
    return (len(text) <= _SHORT_ACK and "\n" not in text and patterns.opening is not None
            and patterns.opening.match(text) is not None
            and all(p is None or p.search(text) is None for p in blockers))


def turn_acts(texts: pd.Series, opinion: np.ndarray, patterns: ChatPatterns) -> np.ndarray:
    """closing / opinion / question / other for customer messages (the precedence is that order).

    closing: ends on thanks or a resolution (`_closes`); resigned: gives up (好吧, 呵呵) and
    does not close; a short acknowledgement (`_acknowledges`) closes too. opinion: the
    message holds opinion evidence (lexicon words, complaint, unresolved or escalation
    phrases). question: `QUESTION` matches.
    """
    lower = texts.str.lower()
    question = texts.str.contains(patterns.question).to_numpy(dtype=bool)
    closing = np.zeros(len(texts), dtype=bool)
    resigned = np.zeros(len(texts), dtype=bool)
    if patterns.closing is not None:
        for i in np.flatnonzero(lower.str.contains(patterns.closing).to_numpy(dtype=bool)):
            text = lower.iat[i]
            closing[i] = _closes(text, patterns)
            if not closing[i]:
                resigned[i] = patterns.resigned is not None and bool(patterns.resigned.search(text))
                closing[i] = not resigned[i] and _acknowledges(text, patterns)
    return np.select([closing, resigned, opinion, question],
                     ["closing", "resigned", "opinion", "question"], "other")


def chat_sentiment(sentiment: np.ndarray, acts: np.ndarray) -> np.ndarray:
    """Turn sentiment read as a chat: no opinion evidence pulls the score toward 0.5.

    A review model reads 在吗, 是的 or an order number as negative (it never saw neutral text);
    without a word of opinion its log-odds are scaled by NO_OPINION_WEIGHT. A closing message
    (好的谢谢, 解决了) is at least CLOSING_FLOOR whatever else it mentions; a resigned one (好吧,
    呵呵: positive words to a review model) at most RESIGNED_CEILING.
    """
    p = np.clip(sentiment.astype(float), 1e-6, 1 - 1e-6)
    neutral = (acts == "question") | (acts == "other")
    z = np.log(p / (1 - p))
    out = np.where(neutral, 1 / (1 + np.exp(-NO_OPINION_WEIGHT * z)), sentiment)
    out = np.where(acts == "closing", np.maximum(out, CLOSING_FLOOR), out)
    return np.where(acts == "resigned", np.minimum(out, RESIGNED_CEILING), out)


def speaker_stage(batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    """Chats: clear opinion columns on non-customer turns; read customer turns as chat turns.

    Adds `escalation`, `unresolved` and `turn_act` on customer turns, and re-reads their
    sentiment (`chat_sentiment`), polarity and is_complaint.
    """
    from textmine.sentiment import polarity

    batch = batch.copy(deep=False)  # adds and replaces columns; the rows are not modified
    customer = customer_mask(batch["role"])
    for col in CUSTOMER_ONLY:
        if col in batch:
            batch[col] = batch[col].astype(object).where(customer, None)
    patterns = _patterns(resources)
    rows = np.flatnonzero(customer)  # only customer messages are searched
    texts = batch["text"].iloc[rows].fillna("").astype(str)
    escalation: list[list[str] | None] = [None] * len(batch)
    unresolved: list[bool | None] = [None] * len(batch)
    acts: list[str | None] = [None] * len(batch)
    if len(rows) and patterns.escalation is not None:
        for i in np.flatnonzero(texts.str.contains(patterns.escalation).to_numpy(dtype=bool)):
            escalation[rows[i]] = escalation_categories(texts.iat[i], patterns)
    short = (texts.str.len() <= _BARE_MAX).to_numpy(dtype=bool)
    if short.any():
        bare = texts[short].str.replace(_NOT_WORD, "", regex=True).str.lower()
        for i in np.flatnonzero(short)[bare.isin(patterns.human).to_numpy(dtype=bool)]:
            escalation[rows[i]] = sorted({*(escalation[rows[i]] or []), HANDOFF})
    if len(rows):
        found = (texts.str.contains(patterns.unresolved).to_numpy(dtype=bool)
                 if patterns.unresolved is not None else np.zeros(len(rows), dtype=bool))
        escalated = np.array([escalation[i] is not None for i in rows], dtype=bool)
        complaint = resources.complaint_pattern
        opinion = opinion_evidence(batch["_words"].iloc[rows], _scorer(resources))
        if complaint is not None:
            opinion |= texts.str.contains(complaint).to_numpy(dtype=bool)
        act = turn_acts(texts, opinion | escalated | found, patterns)
        for i, flag, a in zip(rows, found, act, strict=True):
            unresolved[i], acts[i] = bool(flag), str(a)
        if "sentiment" in batch:
            config = resources.config
            s = chat_sentiment(batch["sentiment"].iloc[rows].to_numpy(dtype=float), act)
            sentiment = batch["sentiment"].astype(object).copy()
            sentiment.iloc[rows] = s
            batch["sentiment"] = sentiment.astype(float)
            pol = batch["polarity"].astype(object).copy()
            pol.iloc[rows] = polarity(s, config.neutral_low, config.neutral_high)
            batch["polarity"] = pol
            if "is_complaint" in batch:
                intent = (texts.str.contains(complaint).to_numpy(dtype=bool)
                          if complaint is not None else np.zeros(len(rows), dtype=bool))
                flags = batch["is_complaint"].astype(object).copy()
                flags.iloc[rows] = (pol.iloc[rows].to_numpy() == "negative") | intent
                batch["is_complaint"] = flags
    batch["escalation"] = pd.Series(escalation, index=batch.index, dtype=object)
    batch["unresolved"] = pd.Series(unresolved, index=batch.index, dtype=object)
    batch["turn_act"] = pd.Series(acts, index=batch.index, dtype=object)
    return batch


register(Stage("speaker", ("text", "role", "sentiment", "polarity", "is_complaint", "_words"),
               ("escalation", "unresolved", "turn_act"), speaker_stage, kinds=("chat",)))
