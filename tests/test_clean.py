"""clean_text / clean_texts: one test per rule, then properties that hold for any text."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textmine.clean import clean_text, clean_texts


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("好评&amp;推荐", "好评&推荐"),
        ("尺码&quot;偏小&quot;", '尺码"偏小"'),
        ("不错&#39;s", "不错's"),
        ("很好&nbsp;&nbsp;满意", "很好 满意"),
        ("&amp;lt;双重转义&amp;gt;", "<双重转义>"),
    ],
)
def test_html_entities_are_unescaped(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("质量好<br>物流快", "质量好 物流快"),
        ("<p>很满意</p>", "很满意"),
        ('<b>五星</b><span class="x">好评</span>', "五星 好评"),
        ("<script>alert(1)</script>差评", "alert(1) 差评"),
        ("&lt;br/&gt;换行", "换行"),
        ("<!-- 备注 -->正文", "正文"),
    ],
)
def test_html_tags_become_a_space(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    "text",
    ["1<2 而且 3>2", "<<三体>>", "《三体》很好看", "<3 爱了"],
)
def test_angle_brackets_that_are_not_tags_stay(text):
    assert clean_text(text) == text


@pytest.mark.parametrize("placeholder", ["<URL>", "<PHONE>", "<EMAIL>", "<IDCARD>", "<BANKCARD>"])
def test_placeholders_are_not_tags(placeholder):
    assert clean_text(f"电话{placeholder}联系") == f"电话{placeholder}联系"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("\ufeff开头有BOM", "开头有BOM"),
        ("中间\ufeff有BOM", "中间有BOM"),
        ("零\u200b宽\u200c字\u200d符\u2060", "零宽字符"),
        ("控制\x00字\x07符\x1b", "控制字符"),
        ("坏\ud800字节", "坏字节"),
        ("第一行\n第二行\r\n第三行", "第一行 第二行 第三行"),
        ("制表\t符", "制表 符"),
        ("全角\u3000空格", "全角 空格"),
        ("  多个   空格  ", "多个 空格"),
        ("\u00a0不换行空格\u00a0", "不换行空格"),
    ],
)
def test_invisible_characters_and_whitespace(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("１２３ＡＢＣａｂｃ", "123ABCabc"),
        ("型号Ｘ２００　Ｐｒｏ", "型号X200 Pro"),
        ("好，很好！真的？是：对；（括号）", "好,很好!真的?是:对;(括号)"),
        ("价格￥１２９９", "价格¥1299"),
    ],
)
def test_full_width_ascii_becomes_half_width(raw, clean):
    assert clean_text(raw) == clean


def test_chinese_only_punctuation_is_kept():
    text = "好。很好、《书名》“引号”……——「括号」"
    assert clean_text(text) == text


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("這個產品質量很好", "这个产品质量很好"),
        ("頭髮乾燥", "头发干燥"),
        ("简体不变", "简体不变"),
    ],
)
def test_traditional_becomes_simplified(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("详情见 http://example.com/a?b=1&c=2 谢谢", "详情见 <URL> 谢谢"),
        ("链接https://item.jd.com/100012.html。", "链接<URL>。"),
        ("去www.taobao.com买", "去<URL>买"),
        ("(见 HTTPS://A.CN/x)", "(见 <URL>)"),
        ("网址www.a.com, 很好", "网址<URL>, 很好"),
    ],
)
def test_urls_become_placeholder(raw, clean):
    assert clean_text(raw) == clean


def test_email_domains_are_not_urls():
    # The e-mail address is masker's job; turning its domain into <URL> would leak the name.
    assert clean_text("邮箱 kefu@www.shop.com") == "邮箱 kefu@www.shop.com"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("太好了！！！！", "太好了!"),
        ("真的吗？？？", "真的吗?"),
        ("好吧。。。", "好吧。"),
        ("还行吧...", "还行吧."),
        ("亲~~~~", "亲~"),
        ("嗯，，，", "嗯,"),
        ("什么？！", "什么?!"),
        ("哈哈哈哈", "哈哈哈哈"),
        ("呃……", "呃……"),
        ("价格1.5元", "价格1.5元"),
    ],
)
def test_runs_of_one_punctuation_mark_collapse_to_one(raw, clean):
    assert clean_text(raw) == clean


@pytest.mark.parametrize("emoji", ["👍", "😡", "❤", "🇨🇳", "👨👩👧"])
def test_emoji_are_kept(emoji):
    assert clean_text(f"好评{emoji}") == f"好评{emoji}"


def test_emoji_variation_selectors_and_joiners_are_dropped():
    assert clean_text("赞❤️") == "赞❤"
    assert clean_text("家庭👨\u200d👩\u200d👧") == "家庭👨👩👧"


def test_clean_texts_keeps_index_name_and_missing_values():
    texts = pd.Series(["很好！！", None, "多行\n文本", float("nan"), 12345], index=[10, 11, 12, 13, 14], name="review")
    out = clean_texts(texts)
    assert list(out.index) == [10, 11, 12, 13, 14]
    assert out.name == "review"
    assert out[10] == "很好!"
    assert out[12] == "多行 文本"
    assert out[14] == "12345"
    assert out[[11, 13]].isna().all()


def test_clean_texts_of_empty_series():
    assert clean_texts(pd.Series([], dtype=object)).empty


# Text that exercises the rules: Chinese (simplified and traditional), full-width forms,
# markup, entities, URLs, punctuation runs, emoji, invisible and control characters.
_pieces = st.sampled_from(
    [
        "很好", "質量", "頭髮", "哈哈", "薴", "不错", "<b>", "</p>", "<br/>", "&amp;", "&lt;", "&gt;",
        "&#65286;", "&#8203;", "&nbsp;", "&", "<", ">", "<URL>", "<PHONE>", "http://a.cn/x",
        "www.jd.com", "www.", "http://", "！", "!", "？", "?", "。", "...", "~", "～", "，", ",",
        "、", "…", "１２３", "ＡＢＣ", "＜", "＞", "＆", "ａｍｐ；", "\u3000", " ", "\n", "\t",
        "\ufeff", "\u200b", "\u200d", "\ufe0f", "\x00", "\r", "👍", "😡", "@", "a", "1",
    ]
)
_texts = st.one_of(
    st.lists(_pieces, max_size=12).map("".join),
    st.text(max_size=40),
)
_prop = settings(max_examples=200, deadline=None)


@_prop
@given(_texts)
def test_cleaning_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once


@_prop
@given(_texts)
def test_output_has_no_invisible_or_full_width_ascii(text):
    out = clean_text(text)
    assert "\ufeff" not in out
    assert "\u200b" not in out
    assert not any(0xFF01 <= ord(c) <= 0xFF5E for c in out)


@_prop
@given(_texts)
def test_output_has_no_edge_or_double_spaces(text):
    out = clean_text(text)
    assert out == out.strip()
    assert "  " not in out
    assert "\n" not in out


@_prop
@given(_texts)
def test_output_is_never_longer_than_input(text):
    # The shortest URL the rule takes ("www.x") is as long as "<URL>", so no rule grows text.
    assert len(clean_text(text)) <= len(text)


@settings(max_examples=50, deadline=None)
@given(st.lists(_texts, max_size=8))
def test_clean_texts_equals_clean_text_on_each(texts):
    assert clean_texts(pd.Series(texts, dtype=object)).tolist() == [clean_text(t) for t in texts]
