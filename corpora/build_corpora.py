#!/usr/bin/env python3
"""Build the bundled sample corpora in this folder (stdlib only, deterministic).

    python3 corpora/build_corpora.py

The review and chat texts are written by hand by the textmine team (`_review_texts.py`,
`_chat_texts.py`); this script combines them with generated metadata (IDs, customers, channels,
timestamps, ratings), fills in planted personal data with valid checksums, and writes:

    reviews.csv  reviews_gbk.csv  chats.csv  chats_transcript.csv  chats.json
    customers.csv  orders.csv  planted.json

Re-running it rewrites the same bytes (fixed seed, no dependence on the clock or locale).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # keep corpora/ free of __pycache__

import _review_texts as T  # noqa: E402

SEED = 20261115
TZ = dt.timezone(dt.timedelta(hours=8))  # all timestamps are Beijing time
START = dt.date(2026, 8, 10)  # Monday of week 0
WEEKS = 14  # 2026-08-10 .. 2026-11-15
END = START + dt.timedelta(days=7 * WEEKS - 1)
LAST_WEEK = WEEKS - 1
N_CLEAN_REVIEWS = 480
# logistics complaints per week: flat ~3, then ~3x in the last week (the planted trend)
LOGI_SCHEDULE = [3, 2, 3, 4, 3, 3, 2, 3, 3, 4, 3, 3, 3, 10]
CHANNELS = ["天猫", "京东", "抖音", "小程序"]
CHANNEL_W = [35, 30, 20, 15]


# ------------------------------------------------------------------------------------------
# personal data with valid checksums, and look-alikes that are NOT personal data
# ------------------------------------------------------------------------------------------
ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
ID_CHECK = "10X98765432"
ID_REGIONS = [
    "110105",
    "310104",
    "440305",
    "320102",
    "510107",
    "330106",
    "420111",
    "370202",
    "210203",
    "610113",
    "350203",
    "430104",
]
MOBILE_PREFIXES = [
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "166",
    "173",
    "177",
    "180",
    "181",
    "186",
    "187",
    "188",
    "189",
    "199",
]
LANDLINE_AREAS = ["010", "021", "0755", "020", "0571", "028", "0512", "027"]
EMAILS = [
    "zhangwei1988@qq.com",
    "lily_chen@163.com",
    "wangfang.sh@126.com",
    "happybaby2024@sina.com",
    "liu.yang@foxmail.com",
    "13800001111@139.com",
    "xiaoyu_mama@163.com",
    "chen.jie@outlook.com",
    "zhao_lei77@qq.com",
    "sunny.huang@gmail.com",
]


def id_check_char(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_valid(s: str) -> bool:
    return len(s) == 18 and s[:17].isdigit() and id_check_char(s[:17]) == s[17].upper()


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_complete(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError


class PII:
    """Generates planted personal data and remembers every value (for planted.json)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.made: list[tuple[str, str]] = []
        self.x_done = False

    def _d(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    def mobile(self) -> str:
        return self.rng.choice(MOBILE_PREFIXES) + self._d(8)

    def fill(self, kind: str) -> str:
        r = self.rng
        if kind == "MOBILE":
            v = self.mobile()
        elif kind == "MOBILE_DASH":
            m = self.mobile()
            v = f"{m[:3]}-{m[3:7]}-{m[7:]}"
        elif kind == "MOBILE_SP":
            m = self.mobile()
            v = f"{m[:3]} {m[3:7]} {m[7:]}"
        elif kind == "MOBILE_86":
            m = self.mobile()
            v = f"+86 {m[:3]} {m[3:7]} {m[7:]}"
        elif kind == "TEL":
            area = r.choice(LANDLINE_AREAS)
            n = str(r.randint(2, 8)) + self._d(7)
            v = f"{area}-{n}" if r.random() < 0.8 else f"({area}){n}"
        elif kind == "IDCARD":
            while True:
                birth = dt.date(1965, 1, 1) + dt.timedelta(days=r.randint(0, 13500))
                body = r.choice(ID_REGIONS) + birth.strftime("%Y%m%d") + self._d(3)
                v = body + id_check_char(body)
                if not self.x_done and not v.endswith("X"):
                    continue  # make sure one planted ID ends in X
                self.x_done = True
                break
        elif kind in ("BANK16", "BANK19", "BANK_G"):
            n = 16 if kind == "BANK16" else 19 if kind == "BANK19" else r.choice([16, 19])
            prefix = r.choice(["6222", "6217", "6228", "6230", "6212", "4367", "5187", "6225"])
            v = luhn_complete(prefix + self._d(n - len(prefix) - 1))
            if kind == "BANK_G":
                v = " ".join(v[i : i + 4] for i in range(0, len(v), 4))
        elif kind == "EMAIL":
            v = r.choice(EMAILS)
        else:
            raise KeyError(kind)
        self.made.append((kind, v))
        return v


def order_number(rng: random.Random, n: int = 18, lead_zero: bool = False) -> str:
    """An order number: n digits that pass neither the Luhn nor the ID-card check."""
    while True:
        first = "0" if lead_zero else rng.choice("123456789")
        s = first + "".join(rng.choice("0123456789") for _ in range(n - 1))
        if not luhn_ok(s) and not (n == 18 and id_valid(s)):
            return s


# ------------------------------------------------------------------------------------------
# time helpers
# ------------------------------------------------------------------------------------------
HOUR_W = [2, 1, 1, 0.5, 0.3, 0.3, 1, 2, 4, 6, 7, 7, 8, 7, 6, 6, 6, 6, 7, 8, 10, 11, 10, 6]


def random_time_in_week(rng: random.Random, week: int) -> dt.datetime:
    day = START + dt.timedelta(days=7 * week + rng.randint(0, 6))
    hour = rng.choices(range(24), weights=HOUR_W)[0]
    return dt.datetime(day.year, day.month, day.day, hour, rng.randint(0, 59), rng.randint(0, 59))


def week_of(t: dt.datetime) -> int:
    return (t.date() - START).days // 7


def parse_dt(s: str) -> dt.datetime:
    return (
        dt.datetime.strptime(s, "%Y-%m-%d %H:%M:%S")
        if " " in s
        else dt.datetime.strptime(s, "%Y-%m-%d").replace(hour=20, minute=11, second=5)
    )


def fmt_time(t: dt.datetime, style: str) -> str:
    if style == "iso":
        return t.strftime("%Y-%m-%d %H:%M:%S")
    if style == "slash":
        return f"{t.year}/{t.month}/{t.day} {t.hour:02d}:{t.minute:02d}"
    if style == "cn":
        return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"
    if style == "epoch":
        return str(int(t.replace(tzinfo=TZ).timestamp()))
    raise KeyError(style)


# ------------------------------------------------------------------------------------------
# composing reviews from hand-written fragments
# ------------------------------------------------------------------------------------------
class Composer:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: Counter[str] = Counter()
        self.cur: set[str] = set()  # fragments already in the review being composed

    def pick(self, items: list[str], cap: int = 3, gbk: bool = False) -> str:
        pool = [x for x in items if (not gbk or _gbk_ok(x)) and x not in self.cur]
        fresh = [x for x in pool if self.used[x] < cap]
        if not fresh:
            low = min(self.used[x] for x in pool)
            fresh = [x for x in pool if self.used[x] == low]
        x = self.rng.choice(fresh)
        self.used[x] += 1
        self.cur.add(x)
        return x

    def join(self, parts: list[str], stars: int) -> str:
        r = self.rng
        out = ""
        for i, p in enumerate(parts):
            if i:
                if out[-1] in "：:，。！？～~":
                    pass
                else:
                    out += r.choices(["，", "。", "！", " ", "~", "；"], [50, 18, 8, 10, 4, 3])[0]
            out += p
        if out[-1] not in "！？。～~）)👍😡😭":
            if stars >= 4:
                out += r.choices(["", "。", "！", "～", "！！", "~"], [35, 25, 20, 8, 6, 6])[0]
            elif stars == 3:
                out += r.choices(["", "。", "。。。", "吧", "…"], [45, 35, 8, 6, 6])[0]
            else:
                out += r.choices(
                    ["", "。", "！", "！！！", "。。。", "？？？", "!!"], [30, 20, 18, 12, 10, 5, 5]
                )[0]
        # sprinkle emoji
        if r.random() < 0.08 and not any(e in out for e in T.EMOJI_POS + T.EMOJI_NEG):
            out += r.choice(T.EMOJI_POS if stars >= 4 else T.EMOJI_NEG if stars <= 2 else ["🤔"])
        return out

    def generic_pos(
        self, gbk: bool = False, kinds=("L+", "S+", "K+", "P+"), weights=(40, 20, 20, 20)
    ) -> tuple[str, str]:
        kind = self.rng.choices(kinds, weights)[0]
        pool = {"L+": T.LOGI_POS, "S+": T.SERV_POS, "K+": T.PACK_POS, "P+": T.PRICE_POS}[kind]
        return self.pick(pool, cap=5, gbk=gbk), kind

    def generic_neg(self, gbk: bool = False) -> tuple[str, str]:
        kind = self.rng.choices(["S-", "K-", "P-"], [45, 25, 30])[0]
        pool = {"S-": T.SERV_NEG, "K-": T.PACK_NEG, "P-": T.PRICE_NEG}[kind]
        return self.pick(pool, cap=4, gbk=gbk), kind

    def compose(
        self, product: str, stars: int, kind: str, gbk: bool = False
    ) -> tuple[str, set[str]]:
        r = self.rng
        F = T.FRAG[product]
        self.cur = set()
        tags: set[str] = set()
        parts: list[str] = []

        def P():
            return self.pick(F["pos"], gbk=gbk)

        def N():
            tags.add("Q-")
            return self.pick(F["neg"], gbk=gbk)

        def M(plain: bool = False):
            pool = [x for x in F["mid"] if not (plain and re.search("就是|不过|但", x))]
            return self.pick(pool, gbk=gbk)

        if kind != "logi" and r.random() < 0.2:
            parts.append(self.pick(T.OPENERS, cap=4))
        if kind == "pos":
            main = [P()]
            if r.random() < 0.55:
                main.append(P())
            if r.random() < 0.5:
                g, t = self.generic_pos(gbk)
                tags.add(t)
                main.insert(r.choice([0, len(main)]), g)
            parts += main
            if stars == 4 and r.random() < 0.4:
                parts[-1] += "，" + r.choice(T.CONTRAST_SOFT) + M(plain=True)
            if r.random() < 0.4:
                parts.append(self.pick(T.CLOSE_POS, cap=4, gbk=gbk))
        elif kind == "mid":
            form = r.random()
            if form < 0.4:
                parts.append(M())
                if r.random() < 0.5:
                    parts[-1] += "，" + r.choice(T.CONTRAST_HARD) + N()
            elif form < 0.75:
                parts.append(P() + "，" + r.choice(T.CONTRAST_HARD) + N())
            else:
                parts += [self.pick(T.GENERIC_MID, cap=3), M()]
            if r.random() < 0.45:
                parts.append(self.pick(T.CLOSE_MID, cap=4))
        elif kind == "mixed_bad":
            # "物流很快，但是质量太差": praise for delivery / packaging / service, not the product
            g, t = self.generic_pos(gbk, ("L+", "S+", "K+"), (60, 20, 20))
            tags.add(t)
            parts.append(g + "，" + r.choice(T.CONTRAST_HARD) + N())
            if r.random() < 0.3:
                parts.append(N())
            if r.random() < 0.35:
                parts.append(self.pick(T.CLOSE_NEG, cap=3, gbk=gbk))
        elif kind == "neg":
            parts.append(N())
            x = r.random()
            if x < 0.35:
                parts.append(N())
            elif x < 0.75:
                g, t = self.generic_neg(gbk)
                tags.add(t)
                parts.append(g)
            if r.random() < 0.45:
                parts.append(self.pick(T.CLOSE_NEG, cap=3, gbk=gbk))
        elif kind == "logi":
            tags.add("L-")
            L = self.pick(T.LOGI_NEG, cap=2, gbk=gbk)
            if "客服" in L:
                tags.add("S-")
            if stars == 3:
                parts.append(P() + "，" + r.choice(T.CONTRAST_SOFT) + L)
            elif stars == 2:
                filler = r.choice(
                    [
                        "东西还行",
                        "东西本身没问题",
                        "东西倒是还可以",
                        "产品还凑合",
                        "质量还过得去",
                        "东西是好的",
                        "东西没毛病",
                    ]
                )
                parts += [L, M() if r.random() < 0.5 else filler]
                if r.random() < 0.5:
                    parts.reverse()
            else:
                parts.append(L)
                x = r.random()
                if x < 0.4:
                    parts.append(self.pick(T.LOGI_NEG, cap=2, gbk=gbk))
                elif x < 0.7:
                    tags.add("S-")
                    parts.append(self.pick(T.SERV_NEG, cap=4, gbk=gbk))
                if r.random() < 0.5:
                    parts.append(self.pick(T.CLOSE_NEG, cap=3, gbk=gbk))
        else:
            raise KeyError(kind)
        text = self.join(parts, stars)
        if gbk:
            text = "".join(c for c in text if _gbk_ok(c))
        return text, tags


def _gbk_ok(s: str) -> bool:
    try:
        s.encode("gbk")
        return True
    except UnicodeEncodeError:
        return False


NEG_KEYS = {
    "S-": re.compile(r"客服|售后|退货|退款|换货|报修|维修|退差价|不理"),
    "K-": re.compile(r"包装|外箱|箱子|压扁|压坏|瘪|塑封"),
    "P-": re.compile(r"价格|贵|降价|差价"),
    "B-": re.compile(r"电池|电量|充电|掉电|没电|续航|充不进|耗电|充电仓"),
    "F-": re.compile(r"连接|连不上|断开|断连|信号|蓝牙|WiFi|wifi|APP|配对|配网|系统|离线"),
}


def hand_tags(text: str, stars: int, flags: str) -> set[str]:
    tags: set[str] = set()
    if "L" in flags:
        tags.add("L-")
        if "客服" in text:
            tags.add("S-")
    if stars <= 2:
        tags.add("Q-")
        for t, rx in NEG_KEYS.items():
            if rx.search(text):
                tags.add(t)
    return tags


# ------------------------------------------------------------------------------------------
# reviews.csv and reviews_gbk.csv
# ------------------------------------------------------------------------------------------
def build_reviews(rng: random.Random, pii: PII, comp: Composer):
    items: list[dict] = []  # each: product, stars, text, tags, fixed time, customer

    def add(product, stars, text, flags="", when=None, customer=None, src="hand"):
        items.append(
            dict(
                product=product,
                stars=stars,
                text=text,
                flags=flags,
                tags=hand_tags(text, stars, flags) if src == "hand" else set(),
                time=when,
                customer=customer,
                src=src,
            )
        )

    for cust, when, product, stars, text in T.PLANTED:
        flags = "N" if T.NEW_TERM in text else ""
        add(product, stars, text, flags, parse_dt(when), cust, src="hand")
    for product, lst in T.FULL.items():
        for e in lst:
            stars, text = e[0], e[1]
            flags = e[2] if len(e) > 2 else ""
            when = parse_dt(e[3]) if len(e) > 3 else None
            add(product, stars, text, flags, when)
    for product, stars, text in T.LONG:
        add(product, stars, text)
    for i, (stars, text) in enumerate(T.SHORT):
        add(T.PRODUCTS[(i * 3) % len(T.PRODUCTS)], stars, text)
    for e, product in zip(T.TRAD, T.TRAD_PRODUCTS, strict=True):
        add(product, e[0], e[1], e[2] if len(e) > 2 else "", src="hand")
        items[-1]["trad"] = True
    for product, stars, text in T.FULLWIDTH + T.WEBBY:
        add(product, stars, text)
    for e in T.PII:
        product, stars, text = e[:3]
        flags = e[3] if len(e) > 3 else ""
        kinds = re.findall(r"\{([A-Z_0-9]+)\}", text)
        filled = text
        planted = []
        for k in kinds:
            if k == "ORDER":
                v = order_number(rng, rng.choice([16, 18, 19]))
                planted.append(("ORDER(not PII)", v))
            else:
                v = pii.fill(k)
                planted.append((k, v))
            filled = filled.replace("{" + k + "}", v, 1)
        add(product, stars, filled, flags)
        items[-1]["pii"] = planted
    for product, stars, text in T.BATTERY_NEG:
        add(product, stars, text)
    for i, (stars, text) in enumerate(T.NEW_TERM_REVIEWS):
        week = LAST_WEEK - 1 if i < 4 else LAST_WEEK
        add("蓝牙耳机", stars, text, "N", random_time_in_week(rng, week))

    # composed reviews: logistics complaints to fill the schedule, then the rest by star targets
    n_hand_L = sum(1 for it in items if "L" in it["flags"])
    n_logi = sum(LOGI_SCHEDULE) - n_hand_L
    logi_stars = [1] * round(n_logi * 0.3) + [3] * round(n_logi * 0.35)
    logi_stars += [2] * (n_logi - len(logi_stars))
    for s in logi_stars:
        product = rng.choice(T.PRODUCTS)
        text, tags = comp.compose(product, s, "logi")
        add(product, s, text, "L", src="composed")
        items[-1]["tags"] = tags
    target = {5: 0.40, 4: 0.20, 3: 0.15, 2: 0.11, 1: 0.14}
    have = Counter(it["stars"] for it in items)
    n_rest = N_CLEAN_REVIEWS - len(items)
    need = {s: max(0, round(target[s] * N_CLEAN_REVIEWS) - have[s]) for s in target}
    while sum(need.values()) > n_rest:
        need[max(need, key=need.get)] -= 1
    while sum(need.values()) < n_rest:
        need[5] += 1
    seen_texts = {it["text"] for it in items}
    for s, n in sorted(need.items()):
        for j in range(n):
            product = T.PRODUCTS[(j * 5 + s) % len(T.PRODUCTS)]
            if s >= 4:
                kind = "pos"
            elif s == 3:
                kind = "mid"
            elif s == 2:
                kind = "mixed_bad" if j % 2 == 0 else "neg"
            else:
                kind = "mixed_bad" if j % 6 == 0 else "neg"
            for _ in range(20):
                text, tags = comp.compose(product, s, kind)
                if text not in seen_texts and 4 <= len(text) <= 200:
                    break
            seen_texts.add(text)
            add(product, s, text, src="composed")
            items[-1]["tags"] = tags
    assert len(items) == N_CLEAN_REVIEWS, len(items)

    # ---- place in weeks ----
    for it in items:  # aspect tags by keyword for every complaint (also composed ones)
        if it["stars"] <= 2:
            it["tags"] |= {t for t, rx in NEG_KEYS.items() if rx.search(it["text"])}
    wk_total = [0] * WEEKS
    wk_tag = [Counter() for _ in range(WEEKS)]
    for it in items:
        if it["time"] is not None:
            w = week_of(it["time"])
            if "L-" not in it["tags"]:
                wk_total[w] += 1
            for t in it["tags"]:
                wk_tag[w][t] += 1
    # logistics complaints: exactly the schedule (fixed-time ones already counted)
    slots = []
    for w, n in enumerate(LOGI_SCHEDULE):
        slots += [w] * (n - wk_tag[w]["L-"])
    logi_items = [it for it in items if "L-" in it["tags"] and it["time"] is None]
    assert len(slots) == len(logi_items), (len(slots), len(logi_items))
    rng.shuffle(slots)
    # complaints that also blame customer service, or are lukewarm (3 stars), go to the earlier
    # weeks: in the last week only logistics rises, and every logistics complaint there is 1-2 stars
    slots.sort(key=lambda w: w == LAST_WEEK)
    rng.shuffle(logi_items)
    logi_items.sort(key=lambda it: not ("S-" in it["tags"] or it["stars"] >= 3))
    for it, w in zip(logi_items, slots, strict=True):
        it["time"] = random_time_in_week(rng, w)
        for t in it["tags"]:
            wk_tag[w][t] += 1
    # everything else: greedy, keeping weekly totals and complaint aspects flat
    rest = [it for it in items if it["time"] is None]
    rng.shuffle(rest)
    rest.sort(key=lambda it: -len(it["tags"]))
    for it in rest:
        cands = list(range(WEEKS))
        cost = {
            w: wk_total[w] + 3 * sum(wk_tag[w][t] for t in it["tags"] if t != "L-") + rng.random()
            for w in cands
        }
        w = min(cands, key=cost.get)
        it["time"] = random_time_in_week(rng, w)
        wk_total[w] += 1
        for t in it["tags"]:
            wk_tag[w][t] += 1

    # ---- customers ----
    special = set(T.FOLLOW_UP_CUSTOMERS) | {T.HAPPY_FREQUENT_CUSTOMER}
    pool = ["000345", "007021"]
    while len(pool) < 150:
        c = f"{rng.randint(1, 29999):06d}"
        if c not in pool and c not in special:
            pool.append(c)
    trad_writers = pool[10:16]
    cap = {c: rng.choices([1, 2, 3, 4], [15, 25, 35, 25])[0] for c in pool}
    todo = [it for it in items if it["customer"] is None]
    while sum(cap.values()) < len(todo):
        c = rng.choice([c for c in pool if cap[c] < 4])
        cap[c] += 1
    while sum(cap.values()) > len(todo):
        c = rng.choice([c for c in pool if cap[c] > 1])
        cap[c] -= 1
    recent = dt.datetime(2026, 10, 12)
    neg_all: Counter[str] = Counter()
    neg_recent: Counter[str] = Counter()
    # negatives first (hardest constraints), recent ones first
    todo.sort(key=lambda it: (it["stars"] > 2, -it["time"].timestamp()))
    for it in todo:
        is_neg = it["stars"] <= 2
        is_recent = it["time"] >= recent

        def ok(c, is_neg=is_neg, is_recent=is_recent):
            if cap[c] <= 0:
                return False
            return not (is_neg and (neg_all[c] >= 2 or (is_recent and neg_recent[c] >= 1)))

        prefer = trad_writers if it.get("trad") else pool
        cands = [c for c in prefer if ok(c)] or [c for c in pool if ok(c)]
        assert cands, it
        c = rng.choice(cands)
        it["customer"] = c
        cap[c] -= 1
        if is_neg:
            neg_all[c] += 1
            neg_recent[c] += is_recent
    home_channel = {c: rng.choices(CHANNELS, CHANNEL_W)[0] for c in pool + sorted(special)}
    for it in items:
        hc = home_channel[it["customer"]]
        it["channel"] = hc if rng.random() < 0.7 else rng.choices(CHANNELS, CHANNEL_W)[0]

    # ---- messy rows ----
    def messy(text, stars, when, product, customer, **kw):
        d = dict(
            product=product,
            stars=stars,
            text=text,
            flags="",
            tags=set(),
            time=when,
            customer=customer,
            channel=home_channel[customer],
            src="messy",
        )
        d.update(kw)
        return d

    mrows = [
        messy("", 5, random_time_in_week(rng, 4), "洗发水", pool[3], messy_kind="empty text"),
        messy("", 4, random_time_in_week(rng, 9), "手机", pool[40], messy_kind="empty text"),
        messy(
            "东西收到了，跟描述的一样，快递小哥也很客气",
            5,
            random_time_in_week(rng, 7),
            "电热水壶",
            pool[77],
            bad_time="昨天下午",
            messy_kind="unparseable time",
        ),
    ]
    all_items = items + mrows
    all_items.sort(key=lambda it: it["time"])
    for i, it in enumerate(all_items, 1):
        it["id"] = f"R{i:06d}"

    # time formats: mostly ISO, some Excel-ish, some Chinese, a few epoch seconds
    for it in all_items:
        w = week_of(it["time"])
        style = rng.choices(["iso", "slash", "cn", "epoch"], [80, 8, 8, 4])[0]
        if style == "epoch" and (w in (0, LAST_WEEK)):
            style = "iso"
        it["time_str"] = it.get("bad_time") or fmt_time(it["time"], style)

    def row(it):
        return [
            it["id"],
            it["customer"],
            it["product"],
            it["channel"],
            str(it["stars"]),
            it["time_str"],
            it["text"],
        ]

    rows = [row(it) for it in all_items]
    # exact duplicate row (re-export), a few rows further down
    dup_src = next(it for it in all_items if it["src"] == "composed" and week_of(it["time"]) == 6)
    pos = next(i for i, r in enumerate(rows) if r[0] == dup_src["id"])
    rows.insert(pos + 3, row(dup_src))
    # same 评论ID, different text (an edited review shows up again in a later export)
    edit_src = next(
        it
        for it in all_items
        if it["src"] == "composed" and it["stars"] <= 2 and week_of(it["time"]) == 10
    )
    edited = row(edit_src)
    edited[6] = edit_src["text"] + " 追评：商家后来主动联系了我，给换了新的，但还是有点失望"
    edited[4] = "3"
    pos = next(i for i, r in enumerate(rows) if r[0] == edit_src["id"])
    rows.insert(pos + 5, edited)

    header = ["评论ID", "用户ID", "商品", "渠道", "评分", "评论时间", "评论内容"]
    with open(HERE / "reviews.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)

    planted = {
        "clean_rows": len(items),
        "messy": {
            "empty_text": [it["id"] for it in mrows if it["messy_kind"] == "empty text"],
            "unparseable_time": [it["id"] for it in mrows if it.get("bad_time")],
            "exact_duplicate_of": dup_src["id"],
            "same_id_different_text": edit_src["id"],
        },
        "pii": [
            {"review_id": it["id"], "values": [list(p) for p in it["pii"]]}
            for it in all_items
            if it.get("pii")
        ],
        "logistics_complaints_per_week": [
            sum(1 for it in items if "L-" in it["tags"] and week_of(it["time"]) == w)
            for w in range(WEEKS)
        ],
        "reviews_per_week": [
            sum(1 for it in items if week_of(it["time"]) == w) for w in range(WEEKS)
        ],
        "new_term_review_ids": [it["id"] for it in all_items if T.NEW_TERM in it["text"]],
    }
    return all_items, rows, pool, home_channel, planted


def build_reviews_gbk(
    rng: random.Random, comp: Composer, pool: list[str], review_items: list[dict]
):
    recent = dt.datetime(2026, 10, 12)
    neg_all = Counter(it["customer"] for it in review_items if it["stars"] <= 2)
    neg_recent = Counter(
        it["customer"] for it in review_items if it["stars"] <= 2 and it["time"] >= recent
    )
    entries = []
    for e in T.GBK_FULL:
        entries.append(dict(product=e[0], stars=e[1], text=e[2], flags=e[3] if len(e) > 3 else ""))
    stars_cycle = [5, 5, 4, 5, 3, 4, 1, 5, 2, 5, 4]
    j = 0
    while len(entries) < 60:
        s = stars_cycle[j % len(stars_cycle)]
        product = T.PRODUCTS[(j * 3 + 1) % len(T.PRODUCTS)]
        kind = {5: "pos", 4: "pos", 3: "mid", 2: "mixed_bad", 1: "neg"}[s]
        text, _ = comp.compose(product, s, kind, gbk=True)
        entries.append(dict(product=product, stars=s, text=text, flags=""))
        j += 1
    rng.shuffle(entries)
    # spread evenly over the 14 weeks; the two logistics complaints go to week 5 and the last week
    weeks = [i % WEEKS for i in range(len(entries))]
    rng.shuffle(weeks)
    logi = [i for i, e in enumerate(entries) if "L" in e["flags"]]
    for i, wk in zip(logi, (5, LAST_WEEK), strict=True):
        k = weeks.index(wk)
        weeks[i], weeks[k] = weeks[k], weeks[i]
    used: set[str] = set()
    rows = []
    for e, wk in zip(entries, weeks, strict=True):
        e["time"] = random_time_in_week(rng, wk)
    entries.sort(key=lambda e: e["time"])
    for n, e in enumerate(entries, 1):
        is_neg = e["stars"] <= 2
        is_recent = e["time"] >= recent
        cands = [
            c
            for c in pool
            if c not in used
            and not (is_neg and (neg_all[c] >= 2 or (is_recent and neg_recent[c] >= 1)))
        ]
        c = rng.choice(cands)
        used.add(c)
        if is_neg:
            neg_all[c] += 1
            neg_recent[c] += is_recent
        t = e["time"]
        ts = (
            f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}"
            if rng.random() < 0.85
            else t.strftime("%Y-%m-%d %H:%M:%S")
        )
        rows.append([f"{n:05d}", c, e["product"], str(e["stars"]), ts, e["text"]])
    header = ["编号", "客户ID", "商品名称", "星级", "时间", "内容"]
    with open(HERE / "reviews_gbk.csv", "w", encoding="gb18030", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)
    return rows


# ------------------------------------------------------------------------------------------
# chat customers, CRM export, orders
# ------------------------------------------------------------------------------------------
PRICE = {
    "手机": (1299, 4999),
    "蓝牙耳机": (99, 599),
    "洗发水": (39, 159),
    "坚果礼盒": (89, 399),
    "连衣裙": (129, 499),
    "电热水壶": (79, 259),
    "扫地机器人": (1299, 3999),
    "婴儿奶粉": (198, 899),
}
REGIONS = [
    "广东省深圳市",
    "广东省广州市",
    "上海市",
    "北京市",
    "浙江省杭州市",
    "浙江省宁波市",
    "江苏省南京市",
    "江苏省苏州市",
    "四川省成都市",
    "湖北省武汉市",
    "湖南省长沙市",
    "福建省厦门市",
    "山东省青岛市",
    "山东省济南市",
    "河南省郑州市",
    "陕西省西安市",
    "重庆市",
    "天津市",
    "辽宁省沈阳市",
    "黑龙江省哈尔滨市",
    "安徽省合肥市",
    "江西省南昌市",
    "云南省昆明市",
    "广西壮族自治区南宁市",
    "河北省石家庄市",
    "吉林省长春市",
    "山西省太原市",
    "贵州省贵阳市",
    "海南省海口市",
    "新疆维吾尔自治区乌鲁木齐市",
    "内蒙古自治区呼和浩特市",
    "甘肃省兰州市",
]
TIERS = ["普通", "银卡", "金卡", "钻石"]
PLANTED_TIER = {
    "004518": "金卡",
    "010086": "钻石",
    "000233": "银卡",
    "023150": "金卡",
    "015702": "普通",
    "000888": "钻石",
}


def resolve_chat_customers(rng, pool, review_items, sessions):
    """Map "R:name" / "X1" placeholders to customer IDs (same name -> same customer)."""
    by_product = defaultdict(list)
    for it in review_items:
        if it["customer"] in pool and it["customer"] not in by_product[it["product"]]:
            by_product[it["product"]].append(it["customer"])
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for key, product in sessions:
        if key in mapping:
            continue
        if key.startswith("R:"):
            cands = [c for c in by_product.get(product, []) if c not in used] or [
                c for c in pool if c not in used
            ]
            c = rng.choice(cands)
        elif key.startswith("X"):
            while True:
                c = f"{rng.randint(30000, 99999):06d}"
                if c not in pool:
                    break
        else:
            c = key
        mapping[key] = c
        used.add(c)
    return mapping


def build_customers_and_orders(rng, review_items, gbk_rows, chat_ids, home_channel, planted):
    review_ids = sorted({it["customer"] for it in review_items} | {r[1] for r in gbk_rows})
    appear = set(review_ids) | set(chat_ids)
    protected = set(T.FOLLOW_UP_CUSTOMERS) | {T.HAPPY_FREQUENT_CUSTOMER, "000345", "007021"}
    # five reviewing customers are missing from the CRM export (unmatched on the CRM side)
    left_out = rng.sample([c for c in review_ids if c not in protected and c not in chat_ids], 5)
    # five CRM customers never write a review or chat
    never = []
    while len(never) < 5:
        c = f"{rng.randint(1, 99999):06d}"
        if c not in appear and c not in never:
            never.append(c)
    crm_ids = sorted((appear - set(left_out)) | set(never))

    # orders: one shortly before each review, plus repeat purchases over the year
    orders = []  # (customer, order_no, time, amount, product)
    used_no: set[str] = set()

    def new_order(c, when, product):
        while True:
            no = order_number(rng, 18, lead_zero=rng.random() < 0.1)
            if no not in used_no:
                break
        used_no.add(no)
        lo, hi = PRICE[product]
        price = rng.randrange(lo, hi + 1, 10) + 9  # 299 / 1399 style price points
        price = min(price, hi)
        amount = price * rng.choice([1, 1, 1, 1, 2]) - rng.choice([0, 0, 0, 5, 10, 20, 30]) * 1.0
        if rng.random() < 0.3:
            amount = round(amount * rng.choice([0.95, 0.9, 0.88]), 2)
        orders.append((c, no, when, round(amount, 2), product))
        return no

    crm_set = set(crm_ids)
    bought: set[tuple[str, str]] = set()
    for it in sorted(review_items, key=lambda it: it["time"]):
        if it["customer"] in crm_set and (it["customer"], it["product"]) not in bought:
            bought.add((it["customer"], it["product"]))
            when = it["time"] - dt.timedelta(days=rng.randint(2, 12), minutes=rng.randint(0, 900))
            new_order(it["customer"], when, it["product"])
    for r in gbk_rows:
        if r[1] in crm_set:
            t = (
                dt.datetime.strptime(r[4], "%Y/%m/%d %H:%M")
                if "/" in r[4]
                else dt.datetime.strptime(r[4], "%Y-%m-%d %H:%M:%S")
            )
            new_order(
                r[1], t - dt.timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 20)), r[2]
            )
    o_start = dt.datetime(2025, 11, 1)
    span = int((dt.datetime(2026, 11, 15, 23, 0) - o_start).total_seconds())
    while len(orders) < 800:
        c = rng.choice(crm_ids)
        when = o_start + dt.timedelta(seconds=rng.randint(0, span))
        new_order(c, when, rng.choice(T.PRODUCTS))
    orders.sort(key=lambda o: o[2])
    return crm_ids, left_out, never, orders, new_order


def write_customers(rng, crm_ids, orders, home_channel):
    spent = defaultdict(float)
    for c, _, _, amount, _ in orders:
        spent[c] += amount
    rows = []
    for c in crm_ids:
        tier = PLANTED_TIER.get(c) or rng.choices(TIERS, [45, 30, 18, 7])[0]
        earlier = {"普通": 0, "银卡": 800, "金卡": 3000, "钻石": 9000}[tier]
        total = spent[c] + earlier + rng.randint(0, 1500) + rng.randint(0, 99) / 100
        reg = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randint(0, 2770))
        ch = home_channel.get(c) or rng.choices(CHANNELS, CHANNEL_W)[0]
        if rng.random() < 0.06:
            ch = "线下门店"
        shown = f" {c} " if c in ("000345", "007021") else c  # as typed into the CRM by hand
        rows.append([shown, tier, rng.choice(REGIONS), f"{total:.2f}", reg.isoformat(), ch])
    dup = rows[len(rows) // 3]
    rows.insert(len(rows) // 3 + 7, list(dup))  # the same customer exported twice
    with open(HERE / "customers.csv", "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(["客户ID", "会员等级", "地区", "累计消费", "注册日期", "渠道"])
        w.writerows(rows)
    return rows, dup[0]


def write_orders(orders):
    with open(HERE / "orders.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["客户ID", "订单号", "下单时间", "金额"])
        for c, no, when, amount, _ in orders:
            w.writerow([c, no, when.strftime("%Y-%m-%d %H:%M:%S"), f"{amount:.2f}"])


# ------------------------------------------------------------------------------------------
# chats.csv, chats_transcript.csv, chats.json
# ------------------------------------------------------------------------------------------
ROLE = {"C": "客户", "A": "客服", "B": "机器人", "S": "系统"}


def fill_placeholders(text, pii, order_for, planted_pii, where):
    def sub(m):
        k = m.group(1)
        if k == "ORDER":
            v = order_for()
            planted_pii.append({"where": where, "kind": "ORDER(not PII)", "value": v})
        else:
            v = pii.fill(k)
            planted_pii.append({"where": where, "kind": k, "value": v})
        return v

    return re.sub(r"\{([A-Z_0-9]+)\}", sub, text)


def build_chats(rng, pii, mapping, orders, new_order, planted):
    import _chat_texts as C

    by_cust = defaultdict(list)
    for o in orders:
        by_cust[o[0]].append(o)

    remembered: dict[tuple[str, str], str] = {}  # a customer quotes the same order again

    def order_for_factory(cust, product, when):
        cache = {}
        if (cust, product) in remembered:
            cache["no"] = remembered[(cust, product)]

        def order_for():
            if "no" not in cache:
                mine = [o for o in by_cust.get(cust, []) if o[2] < when]
                same = [o for o in mine if o[4] == product]
                if same or mine:
                    cache["no"] = (same or mine)[-1][1]
                else:
                    cache["no"] = new_order(cust, when - dt.timedelta(days=5), product)
                    by_cust[cust].append(orders[-1])
                remembered[(cust, product)] = cache["no"]
            return cache["no"]

        return order_for

    planted_pii = []
    sessions = []
    for s in C.SESSIONS:
        cust = mapping[s["c"]]
        start = dt.datetime.strptime(s["t"], "%Y-%m-%d %H:%M:%S")
        turns = []
        t = start
        prev = None
        pause = 0
        for line in s["turns"].strip().splitlines():
            if line.startswith("~"):
                pause = int(line[1:])
                continue
            role, text = line[0], line[2:]
            if prev is not None:
                if role == "B":
                    gap = rng.randint(1, 3)
                elif role == "S":
                    gap = rng.randint(1, 5)
                elif role == "A":
                    gap = (
                        rng.randint(20, 240)
                        if prev == "S"
                        else (rng.randint(5, 40) if prev == "A" else rng.randint(15, 120))
                    )
                else:
                    gap = rng.randint(3, 30) if prev == "C" else rng.randint(10, 180)
                t = t + dt.timedelta(seconds=gap + pause)
            pause = 0
            turns.append((role, text, t))
            prev = role
        sessions.append(
            dict(
                cust=cust,
                start=start,
                product=s["p"],
                turns=turns,
                unanswered=s.get("unanswered", False),
                sorry_happy=s.get("sorry_happy", False),
            )
        )
    sessions.sort(key=lambda x: x["start"])
    per_day = Counter()
    rows = []
    for s in sessions:
        day = s["start"].strftime("%Y%m%d")
        per_day[day] += 1
        s["id"] = f"S{day}{per_day[day]:03d}"
        order_for = order_for_factory(s["cust"], s["product"], s["start"])
        for role, text, t in s["turns"]:
            text = fill_placeholders(text, pii, order_for, planted_pii, s["id"])
            rows.append([s["id"], s["cust"], ROLE[role], text, t.strftime("%Y-%m-%d %H:%M:%S")])
    with open(HERE / "chats.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["会话ID", "客户ID", "角色", "内容", "时间"])
        w.writerows(rows)

    # transcript format
    trows = []
    for i, s in enumerate(C.TRANSCRIPTS, 1):
        cust = mapping[s["c"]]
        start = dt.datetime.strptime(s["t"], "%Y-%m-%d %H:%M:%S")
        start += dt.timedelta(seconds=rng.randint(0, 59))
        sid = f"T{start:%Y%m%d}{i:03d}"
        order_for = order_for_factory(cust, "扫地机器人", start)
        text = fill_placeholders(s["text"].strip(), pii, order_for, planted_pii, sid)
        trows.append([sid, cust, start.strftime("%Y-%m-%d %H:%M:%S"), text])
    with open(HERE / "chats_transcript.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["会话ID", "客户ID", "开始时间", "对话记录"])
        w.writerows(trows)

    # nested JSON format
    jsessions = []
    for s, day in zip(C.JSON_SESSIONS, C.JSON_DATES, strict=True):
        cust = mapping[s["c"]]
        sid = day.replace("-", "") + "".join(rng.choice("0123456789") for _ in range(8))
        turns = []
        for sender, utts in s["turns"]:
            utts = [fill_placeholders(u, pii, lambda: "", planted_pii, sid) for u in utts]
            turns.append({"sender": sender, "utterances": utts})
        jsessions.append({"id": sid, "customer_id": cust, "turns": turns})
    with open(HERE / "chats.json", "w", encoding="utf-8") as f:
        json.dump(jsessions, f, ensure_ascii=False, indent=2)
        f.write("\n")

    # facts for tests and the demo
    by_c = defaultdict(list)
    for s in sessions:
        by_c[s["cust"]].append(s)
    repeat = []
    for c, ss in by_c.items():
        for a, b in zip(ss, ss[1:], strict=False):
            if (b["start"] - a["start"]).days < 7:
                repeat.append([c, a["id"], b["id"]])
    planted["chats"] = {
        "sessions": len(sessions),
        "repeat_contacts_within_7_days": repeat,
        "last_message_unanswered": [s["id"] for s in sessions if s["unanswered"]],
        "bot_only": [s["id"] for s in sessions if {r for r, _, _ in s["turns"]} == {"B"}],
        "escalation": [
            s["id"]
            for s in sessions
            if any(
                r == "C" and re.search("转人工|人工|投诉|12315|差评|曝光", x)
                for r, x, _ in s["turns"]
            )
        ],
        "agent_apologises_customer_happy": [s["id"] for s in sessions if s["sorry_happy"]],
        "new_term_sessions": [
            s["id"] for s in sessions if any(T.NEW_TERM in x for _, x, _ in s["turns"])
        ],
    }
    planted["chat_pii"] = planted_pii
    return rows, trows, jsessions


# ------------------------------------------------------------------------------------------
# README with counts read back from the files
# ------------------------------------------------------------------------------------------
def count_files():
    def csv_rows(name, enc):
        with open(HERE / name, encoding=enc, newline="") as f:
            return list(csv.reader(f))[1:]

    reviews = csv_rows("reviews.csv", "utf-8")
    gbk = csv_rows("reviews_gbk.csv", "gb18030")
    chats = csv_rows("chats.csv", "utf-8")
    trans = csv_rows("chats_transcript.csv", "utf-8")
    with open(HERE / "chats.json", encoding="utf-8") as f:
        js = json.load(f)
    crm = csv_rows("customers.csv", "utf-8-sig")
    orders = csv_rows("orders.csv", "utf-8")
    return dict(
        reviews=len(reviews),
        review_ids=len({r[0] for r in reviews}),
        review_customers=len({r[1] for r in reviews}),
        gbk=len(gbk),
        chat_rows=len(chats),
        chat_sessions=len({r[0] for r in chats}),
        chat_customers=len({r[1] for r in chats}),
        trans=len(trans),
        json=len(js),
        json_turns=sum(len(s["turns"]) for s in js),
        crm=len(crm),
        crm_ids=len({r[0].strip() for r in crm}),
        orders=len(orders),
        order_customers=len({r[0] for r in orders}),
    )


README = """# Sample corpora

Every review and chat text here was written by hand by the textmine team (the generator
`build_corpora.py` only combines our sentences with generated IDs, customers, channels,
timestamps and checksummed fake personal data). Nothing is copied from a public dataset; no
real person is behind any ID, phone, card or address. Rebuild with
`python3 corpora/build_corpora.py` (stdlib only, fixed seed, same bytes every time).
`planted.json` lists everything planted below (row IDs, PII values, weekly counts).

| file | rows | what it exercises |
| --- | --- | --- |
| `reviews.csv` | {reviews} rows ({review_ids} distinct 评论ID, {review_customers} customers) | UTF-8; header `评论ID,用户ID,商品,渠道,评分,评论时间,评论内容`; 8 products × 4 channels, 1–5 stars matching the text; 2026-08-10 … 2026-11-15 in mixed time formats (`2026-08-12 14:03:22`, `2026/8/12 14:03`, `2026年8月12日 14:03`, epoch seconds); traditional characters, full-width digits, emoji, URLs, HTML entities and `<br>`, repeated punctuation, contrast and negation; planted PII in {pii_reviews} reviews, ~5% (mobiles in 4 layouts, landlines, ID cards with valid check digit, Luhn-valid bank cards, e-mails) next to non-PII that must survive (`订单号：`/`单号` + 16–19 digits, `SKU-A1029`, `X200 Pro`, `299元`); planted trend and follow-up customers (below); messy rows: 2 empty 评论内容 ({empty}), 1 unparseable time `昨天下午` ({badtime}), 1 exact duplicate of {dup}, 1 row reusing 评论ID {edit} with edited text. Expected accounting: {reviews} in = {clean} clean + 3 rejected (2 empty, 1 bad time) + 2 with a repeated 评论ID |
| `reviews_gbk.csv` | {gbk} rows | **GB18030** (not valid UTF-8), CRLF, as Chinese Excel exports; other column names `编号,客户ID,商品名称,星级,时间,内容`; 编号 `00001`… and 客户ID keep leading zeros; times like `2026/9/3 14:22`; customers overlap `reviews.csv` |
| `chats.csv` | {chat_rows} turns in {chat_sessions} sessions ({chat_customers} customers) | long format `会话ID,客户ID,角色,内容,时间`; roles 客户/客服/机器人/系统; 3–14 turns; happy endings, customers getting angrier, escalation (转人工, 投诉, 12315, 差评, 曝光), "还是不行", last customer message never answered, a bot-only session, an agent apologising to a happy customer, repeat contacts within 7 days, PII (phones, addresses, ID card, bank card, e-mail) and order numbers that must survive |
| `chats_transcript.csv` | {trans} sessions | one multi-line quoted cell per session: `客户：…` / `客服：…` / `机器人：…` |
| `chats.json` | {json} sessions ({json_turns} turns) | nested JSON `[{{"id", "customer_id", "turns": [{{"sender": "customer"/"helpdesk", "utterances": [...]}}]}}]`, IDs as strings |
| `customers.csv` | {crm} rows ({crm_ids} distinct customers) | CRM export, **UTF-8 with BOM**, CRLF; `客户ID,会员等级,地区,累计消费,注册日期,渠道`; IDs with leading zeros, 2 typed with surrounding spaces (` 000345 `, ` 007021 `), 1 duplicated row ({crm_dup}); 5 customers who never review or chat ({never}); 5 reviewing customers missing from the CRM ({left_out}) |
| `orders.csv` | {orders} orders ({order_customers} customers) | `客户ID,订单号,下单时间,金额`, 2025-11 … 2026-11, 18-digit 订单号 kept as strings (some start with 0; none passes the Luhn or ID-card check) |

## Planted for the demo
- **Rising aspect — 物流 (logistics).** Logistics complaints (late delivery, 快递太慢, 一直不发货,
  物流停更 …) per week in `reviews.csv`: {logi_weeks}; reviews per week: {weeks}. The last week
  (2026-11-09 … 2026-11-15) has ~3× the earlier weekly count (share {share_before}% → {share_last}%); other
  complaint aspects (quality, service, packaging, price) stay flat. Chats
  show the same surge (most last-week sessions are about delivery).
- **New term — `{new_term}`** (earbud charging-case disconnects) appears only in the last two
  weeks (2026-11-02 … 2026-11-15): reviews {new_ids}, chats {new_chats}.
  These complaints also touch 续航/功能 (charging, connection) in those two weeks; a baseline of
  battery and connection complaints runs through all 14 weeks so that 物流 stays the clear riser.
- **Follow-up customers:** {follow} each wrote 4–6 reviews with several 1–2★ ones since
  mid-October, escalated in chats (投诉, 12315, 曝光, 差评); 004518 contacted service twice within
  7 days about the same earbuds. {happy} wrote 5 reviews, all positive (should not rank).
"""


def write_readme(planted, crm_dup, never, left_out):
    n = count_files()
    m = planted["messy"]
    text = README.format(
        **n,
        clean=planted["clean_rows"],
        pii_reviews=sum(
            1 for p in planted["pii"] if any(not k.startswith("ORDER") for k, _ in p["values"])
        ),
        empty=", ".join(m["empty_text"]),
        badtime=m["unparseable_time"][0],
        dup=m["exact_duplicate_of"],
        edit=m["same_id_different_text"],
        crm_dup=crm_dup.strip(),
        never=", ".join(never),
        left_out=", ".join(left_out),
        logi_weeks=planted["logistics_complaints_per_week"],
        share_before=round(
            100
            * sum(planted["logistics_complaints_per_week"][:LAST_WEEK])
            / sum(planted["reviews_per_week"][:LAST_WEEK])
        ),
        share_last=round(
            100
            * planted["logistics_complaints_per_week"][LAST_WEEK]
            / planted["reviews_per_week"][LAST_WEEK]
        ),
        weeks=planted["reviews_per_week"],
        new_term=T.NEW_TERM,
        new_ids=", ".join(planted["new_term_review_ids"]),
        new_chats=", ".join(planted["chats"]["new_term_sessions"]),
        follow=", ".join(T.FOLLOW_UP_CUSTOMERS),
        happy=T.HAPPY_FREQUENT_CUSTOMER,
    )
    with open(HERE / "README.md", "w", encoding="utf-8") as f:
        f.write(text)
    return n


# ------------------------------------------------------------------------------------------
def main() -> None:
    import _chat_texts as C

    rng = random.Random(SEED)
    pii = PII(random.Random(SEED + 1))
    comp = Composer(random.Random(SEED + 2))
    items, review_rows, pool, home_channel, planted = build_reviews(rng, pii, comp)
    gbk_rows = build_reviews_gbk(random.Random(SEED + 3), comp, pool, items)
    planted["follow_up_customers"] = T.FOLLOW_UP_CUSTOMERS
    planted["happy_frequent_customer"] = T.HAPPY_FREQUENT_CUSTOMER
    planted["new_term"] = T.NEW_TERM
    planted["rising_aspect"] = "物流 (logistics complaints, last week 2026-11-09..2026-11-15)"

    crng = random.Random(SEED + 10)
    keys = [(s["c"], s["p"]) for s in C.SESSIONS]
    keys += [(s["c"], "") for s in C.TRANSCRIPTS] + [(s["c"], "") for s in C.JSON_SESSIONS]
    mapping = resolve_chat_customers(crng, pool, items, keys)
    crm_ids, left_out, never, orders, new_order = build_customers_and_orders(
        random.Random(SEED + 11), items, gbk_rows, set(mapping.values()), home_channel, planted
    )
    cpii = PII(random.Random(SEED + 12))
    cpii.x_done = True
    build_chats(random.Random(SEED + 13), cpii, mapping, orders, new_order, planted)
    orders.sort(key=lambda o: o[2])
    write_orders(orders)
    _, crm_dup = write_customers(random.Random(SEED + 14), crm_ids, orders, home_channel)
    planted["crm"] = {
        "left_out_reviewers": left_out,
        "never_active": never,
        "spaced_ids": ["000345", "007021"],
        "duplicated_row": crm_dup.strip(),
    }
    with open(HERE / "planted.json", "w", encoding="utf-8") as f:
        json.dump(planted, f, ensure_ascii=False, indent=1)
        f.write("\n")
    n = write_readme(planted, crm_dup, never, left_out)
    for k, v in n.items():
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
