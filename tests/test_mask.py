"""find_pii / mask_text / mask_texts: what is personal data, what is not, and properties."""

import re
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textmine.mask import PLACEHOLDERS, find_pii, mask_text, mask_texts, may_hold_pii

# Numbers used below, each checked by hand once:
CARD_19 = "6222021234567890128"  # Luhn-valid UnionPay-like card
CARD_16 = "4532015112830366"  # Luhn-valid Visa-like card
ORDER_LIKE_CARD = "4512345678901234564"  # Luhn-valid too: only a cue tells it is an order
ID_X = "11010519491231002X"  # check character X
ID_DIGIT = "440304198512031231"


def kinds(text):
    return [kind for kind, _, _ in find_pii(text)]


def test_placeholders_never_contain_digits():
    assert set(PLACEHOLDERS) == {"phone", "landline", "idcard", "bankcard", "email", "qq", "wechat"}
    assert not any(re.search(r"\d", p) for p in PLACEHOLDERS.values())


@pytest.mark.parametrize(
    "phone",
    [
        "13812345678",
        "138-1234-5678",
        "138 1234 5678",
        "+8613812345678",
        "+86 138 1234 5678",
        "+86-13812345678",
        "8613812345678",
        "008613812345678",
        "(+86)13812345678",
        "１３８１２３４５６７８",  # full-width, if masking runs before cleaning
        "19912345678",
    ],
)
def test_mobile_numbers_are_masked(phone):
    assert mask_text(f"我的电话{phone},谢谢") == "我的电话<PHONE>,谢谢"
    assert kinds(phone) == ["phone"]


@pytest.mark.parametrize(
    "text",
    [
        "订单号138123456789",  # 12 digits: not a mobile number
        "编号213812345678",
        "12812345678",  # second digit 2: no such mobile prefix
        "1381234567",  # 10 digits
    ],
)
def test_mobile_rule_needs_exactly_eleven_digits(text):
    assert mask_text(text) == text


@pytest.mark.parametrize(
    "landline",
    [
        "010-62345678",
        "(0755)86543210",
        "（0755）86543210",
        "021 12345678",
        "0571-8765432",
        "010-62345678转123",
        "010-62345678-8001",
        "02062316680",
        "075586543210",
    ],
)
def test_landlines_are_masked_as_phone(landline):
    assert mask_text(f"座机{landline}。") == "座机<PHONE>。"
    assert kinds(landline) == ["landline"]


@pytest.mark.parametrize("text", ["01012345678", "0201234567", "订单号02062316680"])
def test_landline_written_together_needs_a_real_shape(text):
    assert mask_text(text) == text


@pytest.mark.parametrize("hotline", ["400-820-8820", "4008208820", "800-810-8888", "95588", "12315"])
def test_company_hotlines_are_kept(hotline):
    text = f"客服热线{hotline}打不通"
    assert mask_text(text) == text


@pytest.mark.parametrize("idcard", [ID_X, ID_X.lower(), ID_DIGIT, "110105 19491231 002X"])
def test_id_card_with_valid_checksum_and_date_is_masked(idcard):
    assert mask_text(f"身份证号:{idcard}。") == "身份证号:<IDCARD>。"


def test_id_card_with_wrong_checksum_is_kept():
    wrong = ID_DIGIT[:-1] + "2"
    assert mask_text(f"身份证号:{wrong}") == f"身份证号:{wrong}"


@pytest.mark.parametrize(
    "idcard",
    [
        "320106199902311238",  # checksum right, 31 February
        "310115209912311259",  # checksum right, born in the future (and not Luhn-valid)
        "110105188912310029",  # checksum right, born before 1900
    ],
)
def test_id_card_with_impossible_birth_date_is_kept(idcard):
    assert mask_text(idcard) == idcard


def test_fifteen_digit_old_id_cards_are_not_masked():
    assert mask_text("老身份证110105491231002") == "老身份证110105491231002"


def test_id_card_after_身份证编号_is_still_masked():
    assert mask_text(f"身份证编号:{ID_X}") == "身份证编号:<IDCARD>"


@pytest.mark.parametrize(
    "card",
    [
        CARD_19,
        CARD_16,
        "4532 0151 1283 0366",
        "4532-0151-1283-0366",
        "6222 0212 3456 7890 128",
        "６２２２０２１２３４５６７８９０１２８",
    ],
)
def test_luhn_valid_bank_card_is_masked(card):
    assert mask_text(f"卡号{card},尽快退款") == "卡号<BANKCARD>,尽快退款"


def test_luhn_invalid_bank_card_is_kept():
    invalid = CARD_16[:-1] + "7"
    assert mask_text(f"卡号{invalid}") == f"卡号{invalid}"


def test_bank_card_needs_a_plausible_issuer_digit():
    # 1 and 2 begin no card we expect; 7 and 8 neither. Luhn-valid all the same.
    assert mask_text("编码 1234567890123452") == "编码 1234567890123452"


def test_grouped_card_followed_by_a_quantity_is_masked():
    assert mask_text("卡 4532 0151 1283 0366 2张") == "卡 <BANKCARD> 2张"


@pytest.mark.parametrize(
    "text",
    [
        "订单号：4512345678901234567",
        f"订单号：{ORDER_LIKE_CARD}",
        f"订单号 {ORDER_LIKE_CARD} 还没发货",
        f"单号{ORDER_LIKE_CARD}",
        f"快递单号:{ORDER_LIKE_CARD}",
        f"运单 {ORDER_LIKE_CARD}",
        f"物流单号是{ORDER_LIKE_CARD}",
        f"订单编号#{ORDER_LIKE_CARD}",
        f"交易号{ORDER_LIKE_CARD}",
        f"流水号：{ORDER_LIKE_CARD}",
        f"SKU: {ORDER_LIKE_CARD}",
        f"No.{ORDER_LIKE_CARD}",
        f"Order No. {ORDER_LIKE_CARD}",
        f"货号{ORDER_LIKE_CARD}",
        f"订单号：{ID_DIGIT}",
        "订单号:19513967161",  # JD order numbers are 11 digits
        "订单 13812345678",
    ],
)
def test_order_numbers_after_a_cue_are_kept(text):
    assert mask_text(text) == text


def test_the_same_numbers_without_cue_are_masked():
    assert mask_text(f"卡号是{ORDER_LIKE_CARD}") == "卡号是<BANKCARD>"
    assert mask_text("手机:19513967161") == "手机:<PHONE>"


@pytest.mark.parametrize("text", ["phone no. 13812345678", "Tel No:13812345678", "手机No.13812345678"])
def test_no_after_a_contact_word_is_not_an_order_cue(text):
    assert mask_text(text).endswith("<PHONE>")


def test_a_cue_far_before_the_number_does_not_protect_it():
    assert mask_text(f"订单号查不到,我的卡{CARD_16}") == "订单号查不到,我的卡<BANKCARD>"


@pytest.mark.parametrize(
    "text",
    [
        "SKU-A1029 很好用",
        "X200 Pro 手机",
        "299元买的",
        "¥1299.00",
        "￥1299.00",
        "2026-03-01 到货",
        "2026年3月1日 14:30:00",
        "买了3件,用了20天",
        "验证码 834512",
        "快递SF1234567890123 到了",
        "JD0012345678901234567",
        "订单 20260301123456789",
    ],
)
def test_everyday_numbers_are_kept(text):
    assert mask_text(text) == text


@pytest.mark.parametrize(
    ("email", "text"),
    [
        ("kefu@example.com", "联系kefu@example.com"),
        ("zhang.san+shop@mail.qq.com", "邮箱:zhang.san+shop@mail.qq.com。"),
        ("12345678@qq.com", "QQ邮箱12345678@qq.com"),
        ("a_b@163.com", "a_b＠163.com"),
    ],
)
def test_email_addresses_are_masked(email, text):
    masked = mask_text(text)
    assert "<EMAIL>" in masked
    assert email.split("@")[0] not in masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("加我QQ：12345678", "加我QQ：<QQ>"),
        ("qq号 987654321 谢谢", "qq号 <QQ> 谢谢"),
        ("扣扣:10001", "扣扣:<QQ>"),
        ("ＱＱ１２３４５６７", "ＱＱ<QQ>"),
        ("我的微信号是abc_12345", "我的微信号是<WECHAT>"),
        ("vx: Zhang_san88 联系", "vx: <WECHAT> 联系"),
        ("wechat id：hello_world1", "wechat id：<WECHAT>"),
        ("加微信13812345678", "加微信<PHONE>"),
    ],
)
def test_qq_and_wechat_accounts_after_their_cue_are_masked(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text", ["微信支付很方便", "QQ群号1234", "我相信这个信息", "订单号12345678", "wx很好用"]
)
def test_qq_and_wechat_cues_without_an_account_are_kept(text):
    assert mask_text(text) == text


def test_find_pii_reports_kind_and_span_in_text_order():
    text = f"电话13812345678,邮箱a@b.cn,卡{CARD_16}"
    found = find_pii(text)
    assert [k for k, _, _ in found] == ["phone", "email", "bankcard"]
    assert [text[s:e] for _, s, e in found] == ["13812345678", "a@b.cn", CARD_16]


def test_mask_texts_keeps_index_name_and_missing_values():
    texts = pd.Series(["电话13812345678", None, "没有号码", 13812345678], index=[5, 6, 7, 8], name="text")
    out = mask_texts(texts)
    assert list(out.index) == [5, 6, 7, 8]
    assert out.name == "text"
    assert out.tolist()[0] == "电话<PHONE>"
    assert out.isna().tolist() == [False, True, False, False]
    assert out[7] == "没有号码"
    assert out[8] == "<PHONE>"


# --- properties -------------------------------------------------------------------------

_prop = settings(max_examples=200, deadline=None)



def _digits(n):
    # One integer draw per number keeps generation cheap next to one draw per digit.
    return st.integers(0, 10**n - 1).map(lambda i: f"{i:0{n}d}")


_mobile_body, _id_area, _id_seq = _digits(9), _digits(5), _digits(3)
_card_bodies = {16: _digits(14), 19: _digits(17)}
_births = st.dates(min_value=date(1900, 1, 1), max_value=date.today())


# Filler around the numbers: Chinese, letters and punctuation, never a digit, never an order cue.
_cjk_filler = st.text(alphabet="我的电话卡联系方式是很好谢谢退款身份证,。!?:() 、《》", max_size=8)
_ascii_filler = st.text(alphabet="abcxyzTEL:,.!?() -+", max_size=8)


def _luhn_complete(prefix: str) -> str:
    total = 0
    for i, d in enumerate(reversed(prefix)):
        n = int(d)
        if i % 2 == 0:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return prefix + str(-total % 10)


def _id_complete(prefix: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return prefix + "10X98765432"[sum(int(d) * w for d, w in zip(prefix, weights, strict=True)) % 11]


@st.composite
def mobiles(draw):
    number = "1" + draw(st.sampled_from("3456789")) + draw(_mobile_body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    prefix = draw(st.sampled_from(["", "+86", "+86 ", "86", "0086", "(+86)"]))
    return number, prefix + number[:3] + sep + number[3:7] + sep + number[7:]


@st.composite
def cards(draw):
    length = draw(st.sampled_from([16, 19]))
    body = draw(st.sampled_from("34569")) + draw(_card_bodies[length])
    number = _luhn_complete(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    groups = [number[i : i + 4] for i in range(0, length, 4)]
    return number, sep.join(groups) if sep else number


@st.composite
def idcards(draw):
    area = draw(st.sampled_from("123456789")) + draw(_id_area)
    born = draw(_births)
    seq = draw(_id_seq)
    number = _id_complete(area + born.strftime("%Y%m%d") + seq)
    return number, number if draw(st.booleans()) else number.lower()


@_prop
@given(mobiles(), st.one_of(_cjk_filler, _ascii_filler), st.one_of(_cjk_filler, _ascii_filler))
def test_no_mobile_number_survives(mobile, before, after):
    number, written = mobile
    out = mask_text(before + written + after)
    assert number not in re.sub(r"\D", "", out)
    assert "<PHONE>" in out


@_prop
@given(cards(), _cjk_filler, _cjk_filler)
def test_no_luhn_valid_card_survives(card, before, after):
    number, written = card
    out = mask_text(before + written + after)
    assert not re.search(r"\d", out), out
    assert "<BANKCARD>" in out


@_prop
@given(idcards(), _cjk_filler, _cjk_filler)
def test_no_valid_id_card_survives(idcard, before, after):
    _, written = idcard
    out = mask_text(before + written + after)
    assert not re.search(r"\d", out), out
    assert "<IDCARD>" in out


@_prop
@given(st.text().filter(lambda t: not re.search(r"[0-9０-９@＠]|信|[vVwWｖＶｗＷ][xXｘＸ]|weixin|wechat", t,
                                                re.IGNORECASE)))
def test_text_without_digits_or_at_is_unchanged(text):
    assert mask_text(text) == text
    assert find_pii(text) == []


# Text dense with near-misses: numbers of every length and grouping, cues, placeholders,
# letters glued to digits, e-mail fragments.
_piece = st.one_of(
    mobiles().map(lambda m: m[1]),
    cards().map(lambda c: c[1]),
    idcards().map(lambda i: i[1]),
    st.text(alphabet="0123456789", min_size=1, max_size=20),
    st.sampled_from(
        ["订单号:", "单号", "身份证", "No.", "SKU", " ", "-", "+", "+86", "(", ")", "(0755)", "010-", "转",
         "@", "a@b.cn", "qq.com", ".", "x", "X", "abc", "<PHONE>", "<IDCARD>", "<", ">", "谢谢", "，", "１２３",
         "QQ", "qq号:", "扣扣", "微信", "微信号：", "vx", "wx:", "<QQ>", "<WECHAT>", "abc_12"]
    ),
)
_pii_texts = st.one_of(st.lists(_piece, max_size=10).map("".join), st.text(max_size=40))


@_prop
@given(_pii_texts)
def test_masking_is_idempotent(text):
    once = mask_text(text)
    assert mask_text(once) == once


@_prop
@given(_pii_texts)
def test_find_pii_spans_are_ordered_and_disjoint(text):
    spans = find_pii(text)
    for (_, _, end), (_, start, _) in zip(spans, spans[1:], strict=False):
        assert end <= start
    assert all(0 <= s < e <= len(text) for _, s, e in spans)


@settings(max_examples=50, deadline=None)
@given(st.lists(_pii_texts, max_size=8))
def test_mask_texts_equals_mask_text_on_each(texts):
    assert mask_texts(pd.Series(texts, dtype=object)).tolist() == [mask_text(t) for t in texts]


@_prop
@given(_pii_texts)
def test_the_batch_gate_lets_every_text_with_pii_through(text):
    # mask_texts skips the finders for texts the batch gate rules out: it must never rule out
    # a text in which they find something.
    if find_pii(text):
        assert may_hold_pii([text]).tolist() == [True]


@pytest.mark.parametrize("text", ["电话１３８１２３４５６７８", "加ＷＸ：ａｂｃｄｅｆ", "ＷｅＣｈａｔ：ｈｅｌｌｏ１２",
                                  "邮箱ａ＠ｂ.ｃｎ", "QQ 12345", "薇信 abcdef1"])
def test_the_batch_gate_sees_full_width_and_cued_pii(text):
    assert find_pii(text)
    assert may_hold_pii([text]).tolist() == [True]
