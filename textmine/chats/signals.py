"""Per-turn chat signals: only customer turns carry sentiment; escalation and unresolved phrases."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

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
ACK_SENTIMENT = 0.6  # a bare acknowledgement (好的, 嗯嗯): noted, mildly positive
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
    complaint: re.Pattern[str] | None = None  # complaint.txt phrases (intent to complain)
    opening: re.Pattern[str] | None = None  # acknowledgements that open a message (好的 …)
    contrast: re.Pattern[str] | None = None
    question: re.Pattern[str] = re.compile(QUESTION)
    request: re.Pattern[str] = re.compile(REQUEST)
    # The same phrase lists in RE2 syntax, for whole-batch scans (`rows_matching`): name ->
    # pattern (None: an empty list). Only which texts match is read from them.
    scan: dict[str, str | None] = field(default_factory=dict)


def _trie(phrases: list[str]) -> str:
    """A regex of `phrases` as a prefix tree (投诉|投诉你们 -> 投诉(?:你们)?).

    Python's re tries every branch of a flat alternation at every position; a tree shares the
    prefixes, and its greedy optional tails still prefer the longest phrase at a position.
    """
    root: dict = {}
    for phrase in phrases:
        node = root
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else f"(?:{'|'.join(alts)})"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


def _alternation(phrases: list[str]) -> re.Pattern[str] | None:
    """One regex for a phrase list; the longest phrase at a position wins, and digit phrases
    (12315) never match inside a longer number such as an order number."""
    phrases = sorted(set(phrases))
    if not phrases:
        return None
    digits = [p for p in phrases if p.isdigit()]
    words = [p for p in phrases if not p.isdigit()]
    parts = ([rf"(?<!\d){_trie(digits)}(?!\d)"] if digits else []) + ([_trie(words)] if words else [])
    # A lookahead on the possible first characters lets the scan skip most positions at once.
    first = "".join(sorted({re.escape(p[0]) for p in phrases}))
    return re.compile(f"(?=[{first}])(?:{'|'.join(parts)})")


# Python's \s in a str pattern, written out for RE2 (whose \s is ASCII only).
_PY_SPACE = r"\t\n\v\f\r\x{1c}-\x{1f}\x{85}\p{Z}"
QUESTION_RE2 = QUESTION.replace(r"\s", _PY_SPACE)


def _re2_literal(phrase: str) -> str:
    return "".join(f"\\x{{{ord(ch):x}}}" if ch.isascii() and not ch.isalnum() else ch
                   for ch in phrase)


def _re2_alternation(phrases: list[str]) -> str | None:
    """`_alternation` for RE2: matches a text exactly when the Python pattern finds a match in
    it (digit phrases bounded by non-digits, as `(?<!\\d)…(?!\\d)` there)."""
    phrases = sorted(set(phrases))
    if not phrases:
        return None
    digits = "|".join(_re2_literal(p) for p in phrases if p.isdigit())
    words = "|".join(_re2_literal(p) for p in phrases if not p.isdigit())
    parts = ([rf"(?:^|[^\p{{Nd}}])(?:{digits})(?:[^\p{{Nd}}]|$)"] if digits else []) + \
        ([f"(?:{words})"] if words else [])
    return "|".join(parts)


def chat_patterns(lexicons: Lexicons) -> ChatPatterns:
    """Escalation phrases (with their category) and unresolved phrases as regexes."""
    category_of = {p: cat for cat, phrases in lexicons.escalation.items() for p in phrases}
    # Only names of a person (人工, 客服 …): a bare 售后 typed to a bot menu picks a topic.
    human = frozenset(a.lower() for a in [*lexicons.roles.get("agent", []), "真人", "人工服务"]
                      if "人工" in a or "客服" in a or a == "真人")
    closing = {cat: [p.lower() for p in phrases] for cat, phrases in lexicons.closing.items()}
    opening = closing.get("ok", [])
    complaint = [p for phrases in lexicons.complaint.values() for p in phrases]
    any_closing = [p for phrases in closing.values() for p in phrases]
    return ChatPatterns(
        _alternation(list(category_of)), category_of, _alternation(list(lexicons.unresolved)),
        human, _alternation(any_closing),
        _alternation(closing.get("thanks", [])), _alternation(closing.get("resolved", [])),
        _alternation(closing.get("resigned", [])), _alternation(complaint),
        re.compile("|".join(map(re.escape, sorted(opening, key=len, reverse=True))))
        if opening else None,
        _alternation(sorted(lexicons.contrast)),
        scan={"escalation": _re2_alternation(list(category_of)),
              "unresolved": _re2_alternation(list(lexicons.unresolved)),
              "complaint": _re2_alternation(complaint),
              "closing": _re2_alternation(any_closing),  # over lowercased texts
              "question": QUESTION_RE2})


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
    """True where some clause holds an opinion word the rules scorer knows (incl. rhetoric).

    The sentiment stage read the same rows just before: the scorer hands back its clauses.
    """
    found = scorer.clause_batch(words.tolist())
    return np.bincount(found.doc[found.score != 0], minlength=len(words)) > 0


def rows_matching(pattern: str | None, texts: pa.Array) -> np.ndarray:
    """Which texts the RE2 `pattern` (`ChatPatterns.scan`) matches: one pass of Arrow's regex
    kernel over the batch, several times cheaper than Python's re on the same phrase lists."""
    if pattern is None:
        return np.zeros(len(texts), dtype=bool)
    return pc.match_substring_regex(texts, pattern).to_numpy(zero_copy_only=False)


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


def turn_acts(texts: pd.Series, opinion: np.ndarray, patterns: ChatPatterns,
              question: np.ndarray | None = None) -> np.ndarray:
    """closing / resigned / ack / opinion / question / other for customer messages (that
    precedence).

    closing: ends on thanks or a resolution (`_closes`); resigned: gives up (好吧, 呵呵) and
    does not close; ack: a short acknowledgement (`_acknowledges`: 好的, 嗯嗯). opinion: the
    message holds opinion evidence (lexicon words, complaint, unresolved or escalation
    phrases). question: `QUESTION` matches (`question`, when the caller has scanned already).
    """
    plain = texts.tolist()
    if question is None:
        question = rows_matching(patterns.scan["question"], pa.array(plain, pa.string()))
    lower = pa.array([t.lower() for t in plain], pa.string())
    closing = np.zeros(len(plain), dtype=bool)
    ack = np.zeros(len(plain), dtype=bool)
    resigned = np.zeros(len(plain), dtype=bool)
    for i in np.flatnonzero(rows_matching(patterns.scan["closing"], lower)):
        text = plain[i].lower()
        closing[i] = _closes(text, patterns)
        if not closing[i]:
            resigned[i] = patterns.resigned is not None and bool(patterns.resigned.search(text))
            ack[i] = not resigned[i] and _acknowledges(text, patterns)
    return np.select([closing, resigned, ack, opinion, question],
                     ["closing", "resigned", "ack", "opinion", "question"], "other")


def chat_sentiment(sentiment: np.ndarray, acts: np.ndarray) -> np.ndarray:
    """Turn sentiment read as a chat: no opinion evidence pulls the score toward 0.5.

    A review model reads 在吗, 是的 or an order number as negative (it never saw neutral text);
    without a word of opinion its log-odds are scaled by NO_OPINION_WEIGHT. A closing message
    (好的谢谢, 解决了) is at least CLOSING_FLOOR whatever else it mentions; a bare acknowledgement
    (好的) is ACK_SENTIMENT (the review model reads it as 1.0, a QA lead as "noted", not as
    "satisfied"); a resigned one (好吧, 呵呵: positive words to a review model) at most
    RESIGNED_CEILING.
    """
    p = np.clip(sentiment.astype(float), 1e-6, 1 - 1e-6)
    neutral = (acts == "question") | (acts == "other")
    z = np.log(p / (1 - p))
    out = np.where(neutral, 1 / (1 + np.exp(-NO_OPINION_WEIGHT * z)), sentiment)
    out = np.where(acts == "closing", np.maximum(out, CLOSING_FLOOR), out)
    out = np.where(acts == "ack", ACK_SENTIMENT, out)
    return np.where(acts == "resigned", np.minimum(out, RESIGNED_CEILING), out)


def speaker_stage(batch: pd.DataFrame, resources: Resources) -> pd.DataFrame:
    """Chats: clear opinion columns on non-customer turns; read customer turns as chat turns.

    Adds `escalation`, `unresolved`, `turn_act` and `question` on customer turns, and re-reads
    their sentiment (`chat_sentiment`), polarity and is_complaint.
    """
    batch = batch.copy(deep=False)  # adds and replaces columns; the rows are not modified
    customer = customer_mask(batch["role"])
    for col in CUSTOMER_ONLY:
        if col in batch:
            batch[col] = batch[col].astype(object).where(customer, None)
    rows = np.flatnonzero(customer)  # only customer messages are read
    signals = {col: np.full(len(batch), None, dtype=object) for col in SIGNALS}
    if len(rows):
        _read_customer_turns(batch, rows, resources, signals)
    for col, values in signals.items():
        batch[col] = values
    return batch


# Per-turn columns of customer turns (NULL on the others): escalation categories, an
# unresolved phrase, the turn act, and whether the message asks something (`QUESTION`, read
# by the sessions table for "the customer's last question went unanswered").
SIGNALS = ("escalation", "unresolved", "turn_act", "question")


def _read_customer_turns(batch: pd.DataFrame, rows: np.ndarray, resources: Resources,
                         signals: dict[str, np.ndarray]) -> None:
    """Fill `signals` (SIGNALS) for the customer `rows`; re-read their sentiment columns."""
    from textmine.sentiment import polarity

    patterns = _patterns(resources)
    texts = batch["text"].iloc[rows].fillna("").astype(str)
    plain = texts.tolist()
    array = pa.array(plain, pa.string())
    escalation: list[list[str] | None] = [None] * len(plain)
    for i in np.flatnonzero(rows_matching(patterns.scan["escalation"], array)):
        escalation[i] = escalation_categories(plain[i], patterns)
    for i, text in enumerate(plain):
        if len(text) <= _BARE_MAX and re.sub(_NOT_WORD, "", text).lower() in patterns.human:
            escalation[i] = sorted({*(escalation[i] or []), HANDOFF})
    found = rows_matching(patterns.scan["unresolved"], array)
    intent = rows_matching(patterns.scan["complaint"], array)
    question = rows_matching(patterns.scan["question"], array)
    escalated = np.fromiter((e is not None for e in escalation), bool, len(plain))
    opinion = opinion_evidence(batch["_words"].iloc[rows], _scorer(resources)) | intent
    act = turn_acts(texts, opinion | escalated | found, patterns, question)
    for col, values in (("escalation", escalation), ("unresolved", found.tolist()),
                        ("turn_act", act.tolist()), ("question", question.tolist())):
        column = signals[col]
        for i, value in zip(rows.tolist(), values, strict=True):
            column[i] = value
    if "sentiment" not in batch:
        return
    config = resources.config
    s = chat_sentiment(batch["sentiment"].iloc[rows].to_numpy(dtype=float), act)
    sentiment = batch["sentiment"].to_numpy(dtype=float, na_value=np.nan).copy()
    sentiment[rows] = s
    batch["sentiment"] = sentiment
    pol = batch["polarity"].to_numpy(dtype=object).copy()
    pol[rows] = polarity(s, config.neutral_low, config.neutral_high)
    batch["polarity"] = pol
    if "is_complaint" in batch:
        flags = batch["is_complaint"].to_numpy(dtype=object).copy()
        flags[rows] = (pol[rows] == "negative") | intent
        batch["is_complaint"] = flags


register(Stage("speaker", ("text", "role", "sentiment", "polarity", "is_complaint", "_words"),
               SIGNALS, speaker_stage, kinds=("chat",)))
