"""Lexicon-and-rules sentiment, clause by clause: negation, degree, contrast, ! and rhetoric.

Rules, in the order a clause is read (a clause ends at , 。 ! ? ; ~ … or a space):
- a sentiment word (or a phrase of up to three adjacent words, e.g. 物流/快) adds its weight;
- a negation (不, 没有, 并非 …) flips the next opinion within four words: a negated positive
  becomes as negative, a negated negative only mildly positive (不差 is not 很好); two
  negations cancel to a weak positive (不是不好);
- a degree adverb scales the next opinion (非常 1.8, 有点 0.6); after a negation it softens
  instead (不是很满意 and 不太满意 are milder than 不满意);
- a clause ending in ! counts 1.3x; a rhetorical question (难道, 怎么能, 凭什么 …) is negative;
- contrast (但是, 不过, 就是 … opening a clause, or 却 anywhere) makes that clause count 1.5x
  and the clauses before it in the sentence 0.5x; a 虽然/尽管 clause counts 0.5x.
The document score is the sum of clause scores; P(positive) = sigmoid(a * score + b) with a
and b fitted on labeled reviews (see `CALIBRATION`).

`LexiconScorer.spans` reads one document word by word: it is the rules' readable statement.
Batches go through `clause_batch`, which computes the same clauses for all documents at once
with numpy (tests/test_lexicon_batch.py checks the two agree, on corpora and random text).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd

from textmine.lexicons import Lexicons

CLAUSE_END = frozenset(",，。.!！?？;；~～…:：\n \t")
SENTENCE_END = frozenset("。.!！?？\n")
CONCESSIVE = frozenset({"虽然", "虽", "尽管", "虽说", "固然"})
RHETORICAL = frozenset({"难道", "怎么能", "怎么可以", "凭什么", "岂", "何必", "好意思", "有脸"})
MIDDLE_CONTRAST = frozenset({"却", "反而", "倒是"})
SOFT_NEGATIONS = frozenset({"不太", "不大", "不怎么", "不够", "不算", "算不上", "谈不上", "称不上"})
SPLIT_CONTRAST = frozenset({"但", "但是", "可是", "不过", "然而"})
NEGATION_CHARS = frozenset("不没无未别")
NEGATION_SCOPE = 4  # words between a negation and the opinion it flips
# sigmoid(a * score + b): a logistic regression of the labels on the lexicon score over
# online_shopping_10_cats without 酒店 (56,788 reviews) gave a = 0.741, b = -0.386.
CALIBRATION = (0.741, -0.386)


# Word roles in the one lookup table the scorer consults per word.
(_END, _SENTENCE, _NEG, _DEGREE, _OPINION, _PREFIX, _CONTRAST, _MIDDLE, _CONCESSIVE,
 _RHETORICAL, _GLUED) = range(11)
# The batch path's extra kinds: a word without a role, and the mark after each document.
_NONE, _DOC_END = 11, 12
_BOUNDARIES = (_END, _SENTENCE, _DOC_END)


class _Roles(dict):
    """Word -> (role, value, is a prefix) or None, filled in for unknown words on first sight.

    rjieba glues 不/没 to some words (不差, 没坏): those read as a negated opinion (_GLUED).
    """

    def __init__(self, weights: dict[str, float]) -> None:
        super().__init__()
        self.weights = weights

    def __missing__(self, word: str) -> tuple[int, float, bool] | None:
        role = self[word] = self.glued(word)
        return role

    def glued(self, word: str) -> tuple[int, float, bool] | None:
        """The role of a word not in the table: a negated opinion (不差) or none."""
        rest = word[1:]
        return ((_GLUED, self.weights[rest], False)
                if len(word) > 1 and word[0] in NEGATION_CHARS and rest in self.weights else None)


class _Vocabulary(dict):
    """Word -> id for every word seen, with the `_Roles` of each id as arrays, so a batch
    looks its words up once and reads their roles with numpy. Id 0 marks a document end."""

    def __init__(self, table: _Roles) -> None:
        super().__init__()
        self.table = table
        self.words = [""]
        size = 1 << 12
        self.kind = np.full(size, _NONE, np.int8)
        self.kind[0] = _DOC_END
        self.value = np.zeros(size)
        self.prefix = np.zeros(size, bool)
        self.soft = np.zeros(size, bool)  # a soft negation (不太): softens instead of flipping
        self.split = np.zeros(size, bool)  # a contrast word that may open a clause (但是)
        self.exclaim = np.zeros(size, bool)
        # A word found inside a lexicon entry after its first character (快 in 物流快): only
        # these can continue a phrase.
        self.inner = np.zeros(size, bool)
        self.parts = {e[i:j] for e in table.weights
                      for i in range(1, len(e)) for j in range(i + 1, len(e) + 1)}
        self.filled = 1

    def __missing__(self, word: str) -> int:
        self[word] = index = len(self.words)
        self.words.append(word)
        return index

    def roles(self) -> _Vocabulary:
        """Fill in the role arrays for the words added since the last call."""
        new = self.words[self.filled:]
        if not new:
            return self
        if len(self.words) > len(self.kind):
            size = 1 << (len(self.words) - 1).bit_length()
            for name in ("kind", "value", "prefix", "soft", "split", "exclaim", "inner"):
                old = getattr(self, name)
                grown = np.full(size, _NONE, old.dtype) if name == "kind" else np.zeros(size, old.dtype)
                grown[:len(old)] = old
                setattr(self, name, grown)
        table, parts = self.table, self.parts
        kind, value, prefix = self.kind, self.value, self.prefix
        for i, w in enumerate(new, self.filled):
            if w in parts:
                self.inner[i] = True
            role = table.get(w) or table.glued(w)  # most new words have no role
            if role is not None:
                kind[i], value[i], prefix[i] = role
                self.soft[i] = w in SOFT_NEGATIONS
                self.split[i] = w in SPLIT_CONTRAST
                self.exclaim[i] = w in ("!", "！")
        self.filled = len(self.words)
        return self


@dataclass(frozen=True)
class ClauseBatch:
    """The clauses of a batch of documents as arrays (what `spans` gives one document).

    Word positions count through all documents end to end, document d's words (`docs[d]`)
    at `offsets[d]:offsets[d+1]`. Clauses are in text order, documents in batch order.
    """

    docs: list  # the word lists read (None read as no words)
    ids: np.ndarray  # vocabulary id per word position
    offsets: np.ndarray
    doc: np.ndarray  # per clause: its document,
    start: np.ndarray  # first word,
    end: np.ndarray  # end (exclusive),
    score: np.ndarray  # opinion score before contrast weighting,
    weight: np.ndarray  # contrast weight,
    cleared: np.ndarray  # only negated complaints
    raw: np.ndarray  # per document: the sum of score x weight
    cleared_docs: np.ndarray  # per document: see `LexiconScorer.cleared_complaints`

    def spans(self, d: int) -> list[list]:
        """Document d's clauses in the `LexiconScorer.spans` format."""
        a, b = np.searchsorted(self.doc, [d, d + 1])
        base = int(self.offsets[d])
        return [[s - base, e - base, score, weight, cleared] for s, e, score, weight, cleared
                in zip(self.start[a:b].tolist(), self.end[a:b].tolist(),
                       self.score[a:b].tolist(), self.weight[a:b].tolist(),
                       self.cleared[a:b].tolist(), strict=True)]


@dataclass(frozen=True)
class Clause:
    """One clause: its words, its opinion score (before contrast) and its weight in the doc."""

    words: tuple[str, ...]
    score: float
    weight: float

    @property
    def text(self) -> str:
        return "".join(self.words)


class LexiconScorer:
    """Rules over `_words` (all words in order, punctuation included); SentimentModel contract."""

    name = "lexicon"

    def __init__(self, lexicons: Lexicons, calibration: tuple[float, float] = CALIBRATION) -> None:
        self.weights = dict(lexicons.sentiment)
        self.calibration = calibration
        self.version = f"lexicon:{lexicons.digest}"
        self._last: tuple[list, ClauseBatch | None] = ([], None)
        self._row_of: dict[int, int] | None = None
        # One dict says what a word does, so an ordinary word costs one failed lookup (done
        # for a whole document by map()). Entries rjieba splits (物流快 → 物流/快) are matched
        # by joining up to 3 words; only words that start such an entry try it.
        prefixes = {e[:i] for e in self.weights for i in range(1, len(e))}
        self.prefixes = frozenset(prefixes)
        roles: dict[str, tuple[int, float]] = {p: (_PREFIX, 0.0) for p in prefixes}
        roles.update((w, (_OPINION, v)) for w, v in self.weights.items())
        roles.update((w, (_DEGREE, v)) for w, v in lexicons.degree.items())
        roles.update((w, (_NEG, 0.0)) for w in lexicons.negations)
        for words, kind in ((lexicons.contrast, _CONTRAST), (MIDDLE_CONTRAST, _MIDDLE),
                            (CONCESSIVE, _CONCESSIVE), (RHETORICAL, _RHETORICAL)):
            roles.update((w, (kind, 0.0)) for w in words)
        roles.update((ch, (_SENTENCE if ch in SENTENCE_END else _END, 0.0)) for ch in CLAUSE_END)
        # (role, value, starts a longer lexicon entry)
        self.table = _Roles(self.weights)
        self.table.update((w, (kind, value, w in prefixes)) for w, (kind, value) in roles.items())
        self.vocab = _Vocabulary(self.table)

    def spans(self, words: list[str]) -> list[list]:
        """[start, end, score, weight, cleared] per clause: word span, opinion score, contrast
        weight, and whether its only opinions are negated complaints (不差, 不是不好).

        A clause ends at punctuation, and also before 但/但是/可是/不过/然而 in mid-sentence
        (质量好但价格贵 is two opinions).
        """
        weights, prefixes = self.weights, self.prefixes
        roles = list(map(self.table.__getitem__, words))
        out: list[list] = []
        n = len(words)
        # Per clause: [first word, score, pending negations, index of the last negation,
        # degree scale, degree after negation, contrast, concessive, rhetorical].
        start, sentence = 0, 0
        total, negated, last_neg, scale, softened = 0.0, 0, -9, 1.0, False
        contrast = concessive = rhetorical = False
        cleared = others = 0  # negated negative opinions; all other opinions

        def close(end: int, exclaim: bool) -> None:
            score = total
            if rhetorical:
                score = -abs(score) if score else -1.0
            elif exclaim:
                score *= 1.3
            weight = 1.0
            if contrast:
                weight = 1.5
                for span in out[sentence:]:
                    span[3] *= 0.5
            elif concessive:
                weight = 0.5
            out.append([start, end, score, weight, cleared > 0 and others == 0])

        # Only words with a role are visited: ordinary words (most of them) cost nothing here.
        hits = [i for i, role in enumerate(roles) if role is not None]
        hits.append(n)  # the end of the text closes the last clause
        pos = 0  # first word not yet read (a phrase reads several)
        for i in hits:
            if i < pos:
                continue
            kind, value, prefix = roles[i] if i < n else (_SENTENCE, 0.0, False)
            if kind == _GLUED:
                negated, last_neg, kind = negated + 1, i, _OPINION
            if kind <= _SENTENCE or (kind == _CONTRAST and i - start >= 2
                                     and words[i] in SPLIT_CONTRAST):
                if i > start:
                    close(i, i < n and words[i] in ("!", "！"))
                if kind == _SENTENCE:
                    sentence = len(out)
                total, negated, scale, softened = 0.0, 0, 1.0, False
                contrast = concessive = rhetorical = False
                cleared = others = 0
                if kind <= _SENTENCE:
                    start = pos = i + 1
                    continue
                start = i  # the contrast word opens the next clause
            pos = i + 1
            if prefix and pos < n and not (negated and kind == _DEGREE):
                # Longest phrase first: three words, then two. (Not 很满意 after a negation:
                # the degree word must soften instead.)
                two = words[i] + words[pos]
                three = (two + words[pos + 1] if pos + 1 < n and two in prefixes else "")
                if three in weights:
                    kind, value, pos = _OPINION, weights[three], pos + 2
                elif two in weights:
                    kind, value, pos = _OPINION, weights[two], pos + 1
            if kind == _OPINION:
                if negated and pos - last_neg <= NEGATION_SCOPE + 1:
                    if softened:
                        scale = min(scale, 1.0) * 0.7
                    if negated % 2 == 0 or value < 0:
                        cleared += 1
                    else:
                        others += 1
                    if negated % 2 == 0:
                        value = abs(value) * 0.5
                    else:
                        value = -value if value > 0 else -value * 0.5
                else:
                    others += 1
                total += value * scale
                negated, scale, softened = 0, 1.0, False
            elif kind == _NEG:
                negated, last_neg = negated + 1, i
                if words[i] in SOFT_NEGATIONS:
                    scale, softened = 1.0, True
            elif kind == _DEGREE:
                scale *= value
                softened = softened or negated > 0
            elif kind == _CONTRAST:
                contrast = contrast or i - start < 2
            elif kind == _MIDDLE:
                contrast = True
            elif kind == _CONCESSIVE:
                concessive = concessive or i - start < 2
            elif kind == _RHETORICAL:
                rhetorical = True
        return out

    def clauses(self, words: list[str]) -> list[Clause]:
        """The document's clauses with their words, scores and contrast weights."""
        return [Clause(tuple(words[a:b]), score, weight) for a, b, score, weight in self.spans(words)]

    # -- documents -------------------------------------------------------------------------
    def raw_score(self, words: list[str]) -> float:
        """Sum of the clause scores weighted for contrast."""
        return sum(span[2] * span[3] for span in self.spans(words))

    def raw_scores(self, batch: pd.DataFrame) -> np.ndarray:
        """Document scores for a batch (`raw_score` of each row, read as one batch)."""
        return self.clause_batch(batch["_words"].tolist()).raw.copy()

    def cleared_complaints(self, batch: pd.DataFrame) -> np.ndarray:
        """True where every clause with an opinion holds only negated complaints (不差,
        没问题, 不是不好): text a bag of n-grams reads as negative."""
        return self.clause_batch(batch["_words"].tolist()).cleared_docs.copy()

    def cached_spans(self, words: list[str]) -> list[list]:
        """`spans(words)`, from the last batch's results when this is the same word list."""
        docs, found = self._last
        if found is not None:
            if self._row_of is None:
                self._row_of = {id(w): d for d, w in enumerate(docs)}
            d = self._row_of.get(id(words))
            if d is not None and docs[d] is words:
                return found.spans(d)
        return self.spans(words)

    def clause_batch(self, docs: list) -> ClauseBatch:
        """The clauses of a batch's `_words` lists (None reads as no words). The last batch's
        are kept: the calls that follow on the same rows (`cleared_complaints`, the aspects
        stage) reuse them instead of reading again."""
        last, found = self._last
        if (found is None or len(last) != len(docs)
                or not all(map(operator.is_, last, docs))):
            found = self._read(docs)
            self._last, self._row_of = (list(docs), found), None
        return found

    # -- the batch path: `spans` for many documents at once, in numpy ------------------------
    # Positions below index `ext`: all documents' words end to end with a mark (id 0, kind
    # _DOC_END) after each document, so "the next word" and "the clause start" never cross a
    # document. Most arrays hold only the words with a role (`at`: their positions).
    def _read(self, docs: list) -> ClauseBatch:
        lists = [w if w is not None else () for w in docs]
        offsets = np.zeros(len(lists) + 1, np.int64)
        np.cumsum(np.fromiter(map(len, lists), np.int64, len(lists)), out=offsets[1:])
        vocab = self.vocab
        ids = np.fromiter(map(vocab.__getitem__, chain.from_iterable(lists)), np.int64,
                          int(offsets[-1]))
        vocab.roles()
        ext = np.insert(ids, offsets[1:], 0)
        kinds = vocab.kind[ext]
        at = np.flatnonzero(kinds != _NONE)
        role = kinds[at]
        vid = ext[at]
        split = vocab.split[vid] & (role == _CONTRAST)
        # What each word does once phrases are read: a phrase start becomes an opinion, the
        # words it spans drop out (_NONE).
        kind, value, length = role.copy(), vocab.value[vid], np.ones(len(at), np.int64)
        self._phrases(ext, at, vid, kind, value, length, split)

        # Clauses end at punctuation, at each document end and before a contrast word that
        # opens a clause ("cuts"); clause k is opens[k]:closes[k].
        boundary = (kind == _END) | (kind == _SENTENCE) | (kind == _DOC_END)
        cut = boundary.copy()
        cut[self._splits(at, boundary, split & (kind != _NONE))] = True
        cuts = np.flatnonzero(cut)
        closes = at[cuts]
        opens = np.zeros(len(cuts), np.int64)
        opens[1:] = closes[:-1] + boundary[cuts[:-1]]
        keep = closes > opens
        cut_kind = kind[cuts]
        doc_end = cut_kind == _DOC_END
        sentence_end = doc_end | (cut_kind == _SENTENCE)
        clause_doc = (np.cumsum(doc_end) - doc_end)[keep]
        sentence = (np.cumsum(sentence_end) - sentence_end)[keep]
        exclaim = vocab.exclaim[vid[cuts]][keep]
        starts, n = opens[keep], int(keep.sum())
        # The clause of each word with a role (its index among the kept clauses).
        inside = np.flatnonzero((kind != _NONE) & ~boundary)
        clause = (np.cumsum(keep) - 1)[np.cumsum(cut)[inside]]
        k, pos = kind[inside], at[inside]
        early = pos - starts[clause] < 2  # among the clause's first two words
        contrast = np.zeros(n, bool)
        contrast[clause[(k == _MIDDLE) | ((k == _CONTRAST) & early)]] = True
        concessive = np.zeros(n, bool)
        concessive[clause[(k == _CONCESSIVE) & early]] = True
        rhetorical = np.zeros(n, bool)
        rhetorical[clause[k == _RHETORICAL]] = True

        total, cleared, others = self._opinions(
            n, k, pos, clause, value[inside], length[inside], vocab.soft[vid[inside]])
        score = np.where(rhetorical, np.where(total != 0, -np.abs(total), -1.0),
                         np.where(exclaim, total * 1.3, total))
        # A contrast clause halves every clause before it in its sentence.
        later = np.cumsum(contrast)
        later = later[np.searchsorted(sentence, sentence, "right") - 1] - later
        weight = np.ldexp(np.where(contrast, 1.5, np.where(concessive, 0.5, 1.0)),
                          -later.astype(np.int32))
        cleared = (cleared > 0) & (others == 0)
        opinion = score != 0
        with_opinion = np.bincount(clause_doc, opinion, len(lists))
        return ClauseBatch(
            docs=lists, ids=ids, offsets=offsets, doc=clause_doc,
            start=starts - clause_doc, end=closes[keep] - clause_doc, score=score,
            weight=weight, cleared=cleared,
            raw=np.bincount(clause_doc, score * weight, len(lists)).astype(float, copy=False),
            cleared_docs=(with_opinion > 0)
            & (np.bincount(clause_doc, opinion & cleared, len(lists)) == with_opinion))

    def _phrases(self, ext: np.ndarray, at: np.ndarray, vid: np.ndarray, kind: np.ndarray,
                 value: np.ndarray, length: np.ndarray, split: np.ndarray) -> None:
        """Read the lexicon phrases (物流/快) in place of their first word, as `spans` does:
        each distinct word pair and triple of the batch is looked up once."""
        vocab = self.vocab
        # A phrase starts at a prefix word followed, in its document, by a part of an entry.
        cand = np.flatnonzero(vocab.prefix[vid] & (kind > _SENTENCE))
        cand = cand[vocab.inner[ext[at[cand] + 1]]]
        if not len(cand):
            return
        pos = at[cand]
        pairs, pair = np.unique((vid[cand] << 32) | ext[pos + 1], return_inverse=True)
        words = vocab.words
        texts = [words[a] + words[b] for a, b
                 in zip((pairs >> 32).tolist(), (pairs & 0xFFFFFFFF).tolist(), strict=True)]
        two = self._entries(texts)
        n_words = np.where(np.isnan(two[0]), 0, 2)[pair]
        values = two[0][pair]
        # Three words where the first two start a longer entry (longest phrase first).
        longer = np.flatnonzero(two[1][pair] & vocab.inner[ext[pos + 2]])
        if len(longer):
            triples, triple = np.unique((pair[longer] << 32) | ext[pos[longer] + 2],
                                        return_inverse=True)
            three = self._entries([texts[a] + words[b] for a, b in zip(
                (triples >> 32).tolist(), (triples & 0xFFFFFFFF).tolist(), strict=True)])
            three = three[0][triple]
            hit = ~np.isnan(three)
            n_words[longer[hit]] = 3
            values[longer[hit]] = three[hit]
        found = np.flatnonzero(n_words)
        cand, pos, n_words, values = cand[found], pos[found], n_words[found], values[found]
        # Phrases read one after the other: a phrase that starts inside the previous one, or a
        # degree word after a negation (不是很满意: 很 softens), waits for the loop below;
        # the others are read at once.
        ends = pos + n_words
        overlap = np.zeros(len(cand), bool)
        overlap[1:] = pos[1:] < ends[:-1]
        overlap[:-1] |= overlap[1:]
        wait = overlap | (kind[cand] == _DEGREE)
        _read_phrases(~wait, cand, pos, n_words, values, at, kind, value, length)
        # A degree word right after a negation, an opinion or a clause end needs no reading
        # backwards, unless a phrase still waiting just before it could change that word.
        w = np.flatnonzero(wait)
        before = kind[np.maximum(cand[w] - 1, 0)]
        near = np.zeros(len(w), bool)
        near[1:] = cand[w[1:]] - cand[w[:-1]] <= 3
        settled = (~overlap[w] & ~near
                   & ((cand[w] == 0) | np.isin(before, (_NEG, _OPINION, _GLUED) + _BOUNDARIES)))
        opens = np.zeros(len(cand), bool)
        opens[w[settled & ((cand[w] == 0) | (before != _NEG))]] = True
        _read_phrases(opens, cand, pos, n_words, values, at, kind, value, length)
        wait[w[settled]] = False
        until = 0  # first position not inside a phrase already read
        for c, p, n, v in zip(cand[wait].tolist(), pos[wait].tolist(), n_words[wait].tolist(),
                              values[wait].tolist(), strict=True):
            if p < until or (kind[c] == _DEGREE and _negation_pending(c, at, kind, split)):
                continue
            kind[c], value[c], length[c] = _OPINION, v, n
            until = p + n
            while at[c + 1] < until:
                c += 1
                kind[c] = _NONE

    def _entries(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Per text: its lexicon weight (NaN if not an entry), whether it starts a longer one."""
        weights, prefixes = self.weights, self.prefixes
        return (np.array([weights.get(t, np.nan) for t in texts], float),
                np.array([t in prefixes for t in texts], bool))

    @staticmethod
    def _splits(at: np.ndarray, boundary: np.ndarray, split: np.ndarray) -> list[int]:
        """The contrast words that open a clause: two or more words after the clause start."""
        cand = np.flatnonzero(split)
        if not len(cand):
            return []
        base = np.maximum.accumulate(np.where(boundary, at + 1, 0))[cand]
        out, start = [], 0
        for c, p, b in zip(cand.tolist(), at[cand].tolist(), base.tolist(), strict=True):
            if p - max(b, start) >= 2:
                out.append(c)
                start = p
        return out

    @staticmethod
    def _opinions(n: int, kind: np.ndarray, pos: np.ndarray, clause: np.ndarray,
                  value: np.ndarray, length: np.ndarray,
                  soft: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per clause: the sum of its opinions after negation and degree, the number of
        negated complaints and of other opinions. Inputs: the clause words with a role."""
        use = (kind == _OPINION) | (kind == _GLUED) | (kind == _NEG) | (kind == _DEGREE)
        kind, pos, clause, value, length, soft = (
            a[use] for a in (kind, pos, clause, value, length, soft))
        if not len(kind):
            return np.zeros(n), np.zeros(n), np.zeros(n)
        opinion = (kind == _OPINION) | (kind == _GLUED)
        neg, degree = kind == _NEG, kind == _DEGREE
        # A run ("seg") ends at each opinion and at the clause end: negations and degree
        # words apply to the opinion that closes their run.
        new = np.ones(len(kind), bool)
        new[1:] = (clause[1:] != clause[:-1]) | opinion[:-1]
        seg = np.cumsum(new) - 1
        negs = np.bincount(seg[neg], minlength=seg[-1] + 1)
        before = np.cumsum(neg) - neg  # negations before each word
        neg_in_run = before - before[new][seg]
        softened = np.bincount(seg[(neg & soft) | (degree & (neg_in_run > 0))],
                               minlength=seg[-1] + 1) > 0
        # Degree scale: the product of the degree words since the run start or the last soft
        # negation, multiplied in text order (one pass per degree word of a group).
        group_start = new | (neg & soft)
        group = np.cumsum(group_start) - 1
        scale = np.ones(group[-1] + 1)
        d = np.flatnonzero(degree)
        groups = group[d]
        rank = np.arange(len(d)) - np.searchsorted(groups, groups)
        for r in range(int(rank.max()) + 1 if len(d) else 0):
            scale[groups[rank == r]] *= value[d[rank == r]]
        last_neg = np.maximum.accumulate(np.where(neg, pos, -1))
        o = np.flatnonzero(opinion)
        glued = kind[o] == _GLUED
        negated = negs[seg[o]] + glued
        last_neg = np.where(glued, pos[o], last_neg[o])
        flips = (negated > 0) & (pos[o] + length[o] - last_neg <= NEGATION_SCOPE + 1)
        scale = scale[group[o]]
        scale = np.where(flips & softened[seg[o]], np.minimum(scale, 1.0) * 0.7, scale)
        v = value[o]
        even = negated % 2 == 0
        v = np.where(flips, np.where(even, np.abs(v) * 0.5, np.where(v > 0, -v, -v * 0.5)), v)
        clears = flips & (even | (value[o] < 0))
        c = clause[o]
        return (np.bincount(c, v * scale, n).astype(float, copy=False), np.bincount(c, clears, n),
                np.bincount(c, ~clears, n))

    def predict_proba(self, batch: pd.DataFrame) -> np.ndarray:
        """P(positive) per row from the `_words` column."""
        return self.proba_from_raw(self.raw_scores(batch))

    def proba_from_raw(self, raw: np.ndarray) -> np.ndarray:
        a, b = self.calibration
        return 1.0 / (1.0 + np.exp(-np.clip(a * raw + b, -50, 50)))

    def clause_proba(self, score: float) -> float:
        """A clause score as P(positive) (no prior: a clause without opinion is 0.5)."""
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, self.calibration[0] * score))))


def _read_phrases(read: np.ndarray, cand: np.ndarray, pos: np.ndarray, n_words: np.ndarray,
                  values: np.ndarray, at: np.ndarray, kind: np.ndarray, value: np.ndarray,
                  length: np.ndarray) -> None:
    """Read the phrases starting at role words `cand[read]` (none overlaps another)."""
    kind[cand[read]], value[cand[read]], length[cand[read]] = _OPINION, values[read], n_words[read]
    inside = np.concatenate([pos[read] + 1, pos[read & (n_words == 3)] + 2])
    found = np.searchsorted(at, inside)
    kind[found[at[found] == inside]] = _NONE


def _negation_pending(c: int, at: np.ndarray, kind: np.ndarray, split: np.ndarray) -> bool:
    """Whether a negation waits for an opinion at role word c (read backwards to the last
    opinion or clause start): a degree word there softens rather than starting a phrase."""
    k = c - 1
    while k >= 0:
        kk = kind[k]
        if kk == _NEG:
            return True
        if kk in (_OPINION, _GLUED, _END, _SENTENCE, _DOC_END):
            return False
        if kk == _CONTRAST and split[k]:
            # 但 ends the clause unless it is one of its first two words; then the word
            # before it, if a negation, opened the clause and is still pending.
            p = at[k]
            if k == 0 or at[k - 1] != p - 1 or kind[k - 1] != _NEG:
                return False
            return p == 1 or (k >= 2 and at[k - 2] == p - 2 and kind[k - 2] in _BOUNDARIES)
        k -= 1
    return False
