from __future__ import annotations

import pytest

from collectors.matching import BrandMatcher, BrandRule, normalize_text, validate_keywords

NOROSHI = BrandRule(
    brand_id=1,
    keywords=["ノロシ", "Noroshi", "#狼煙", "@noroshi_jp", "狼煙 アプリ"],
    exclude=["のろし台"],
    languages=["ja", "en"],
)


def matcher(*rules: BrandRule) -> BrandMatcher:
    return BrandMatcher(list(rules) or [NOROSHI])


def hits(keywords: list[str], text: str, **kwargs: object) -> bool:
    return BrandMatcher([BrandRule(7, keywords, **kwargs)]).match(text) == [7]  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＮＯＲＯＳＨＩ", "noroshi"),
        ("ﾉﾛｼ", "のろし"),
        ("ノロシ", "のろし"),
        ("ｶﾞｽ", "がす"),  # half-width dakuten composes
        ("＃狼煙", "#狼煙"),
        ("＠Noroshi_JP", "@noroshi_jp"),
        ("狼煙\u3000 \n\tアプリ ", "狼煙 あぷり"),
        ("ノ\u200bロ\u00adシ\ufeff", "のろし"),
        ("ノロシー", "のろしー"),  # long vowel mark kept
        ("ッ", "っ"),  # small kana stays small (only the script is folded)
        ("Straße", "strasse"),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


# -------------------------------------------------------------------------- width, case, kana script


@pytest.mark.parametrize(
    "text",
    [
        "ＮＯＲＯＳＨＩ落ちてる",
        "noroshi is down",
        "NoRoShi!",
        "ﾉﾛｼ最悪",
        "のろしのアプリ最悪",
        "ノロシのアプリ最悪",
    ],
)
def test_variants_match(text: str) -> None:
    assert matcher().match(text) == [1]


def test_hiragana_keyword_matches_katakana_text() -> None:
    assert hits(["のろし"], "ノロシ使ってる")
    assert hits(["のろし"], "ﾉﾛｼ使ってる")


def test_long_vowel_and_small_kana_are_not_folded() -> None:
    assert not hits(["ノロシー"], "ノロシ最高")
    assert not hits(["ドッグ"], "ドツグ")


@pytest.mark.parametrize("text", ["狼のろうそく", "火のろし台", "", "   ", "nothing here"])
def test_unrelated_text_does_not_match(text: str) -> None:
    assert matcher().match(text) == []


# ----------------------------------------------------------------------------------- word boundaries


def test_cjk_keyword_matches_as_substring() -> None:
    assert hits(["炎上"], "また大炎上してる")
    assert hits(["ノロシ"], "新ノロシアプリ")


@pytest.mark.parametrize(
    "text", ["auの通信障害", "AU 障害", "ａｕ終わった", "(au)", "au", "#au", "i love au!"]
)
def test_latin_keyword_matches_at_boundaries(text: str) -> None:
    assert hits(["au"], text)


@pytest.mark.parametrize("text", ["because", "Australia", "au_pay", "au2", "lau", "noroshimaker", "ａｕｔｏ"])
def test_latin_keyword_needs_word_boundary(text: str) -> None:
    assert not hits(["au", "noroshi"], text)


def test_mixed_keyword_boundary_only_on_latin_side() -> None:
    assert hits(["auショップ"], "近所のauショップ店員")
    assert not hits(["auショップ"], "pauショップ")


# --------------------------------------------------------------------------------- hashtags, handles


@pytest.mark.parametrize("text", ["#狼煙", "＃狼煙 最高", "今日も#狼煙。", "#狼煙\n"])
def test_hashtag_keyword_matches_hashtag(text: str) -> None:
    assert hits(["#狼煙"], text)


@pytest.mark.parametrize("text", ["狼煙", "狼煙があがる", "#狼煙アプリ", "#狼煙_2", "abc#狼煙"])
def test_hashtag_keyword_does_not_match_plain_word_or_longer_tag(text: str) -> None:
    assert not hits(["#狼煙"], text)


def test_hashtag_with_latin_tag_and_kana_variants() -> None:
    assert hits(["#noroshi"], "#NOROSHI down again")
    assert not hits(["#noroshi"], "#noroshiapp")
    assert hits(["#ノロシ"], "＃のろし")
    assert hits(["#ノロシ"], "#ﾉﾛｼ")


def test_plain_keyword_matches_inside_hashtag() -> None:
    assert hits(["狼煙"], "#狼煙")
    assert hits(["ノロシ"], "＃ノロシ")
    assert hits(["noroshi"], "#noroshi")


@pytest.mark.parametrize(
    "text", ["@noroshi_jp 直して", "@NOROSHI_JP", "＠Noroshi_jp", "@noroshi_jpさん", "(@noroshi_jp)"]
)
def test_handle_keyword_matches_mention(text: str) -> None:
    assert hits(["@noroshi_jp"], text)


@pytest.mark.parametrize(
    "text", ["@noroshi_jp2", "@noroshi_jpn", "noroshi_jp", "info@noroshi_jp", "@noroshi"]
)
def test_handle_keyword_does_not_match_other_handles(text: str) -> None:
    assert not hits(["@noroshi_jp"], text)


# ------------------------------------------------------------------------------------------- phrases


@pytest.mark.parametrize(
    "text",
    ["狼煙 アプリ", "狼煙　アプリ", "狼煙\u3000\u3000アプリ", "狼煙\nアプリ", "狼煙アプリ", "狼煙あぷり"],
)
def test_cjk_phrase_any_whitespace_or_none(text: str) -> None:
    assert hits(["狼煙 アプリ"], text)


def test_cjk_phrase_negative() -> None:
    assert not hits(["狼煙 アプリ"], "狼煙のアプリ")
    assert not hits(["狼煙 アプリ"], "アプリ 狼煙")


def test_latin_phrase_needs_whitespace_between_latin_words() -> None:
    assert hits(["noroshi app"], "the Noroshi\u3000 APP crashed")
    assert not hits(["noroshi app"], "noroshiapp")
    assert not hits(["noroshi app"], "noroshi apps")


def test_mixed_phrase_space_optional_next_to_cjk() -> None:
    assert hits(["Noroshi アプリ"], "Noroshiアプリ落ちた")
    assert hits(["Noroshi アプリ"], "noroshi アプリ")


# ---------------------------------------------------------------------------------------- exclusions


def test_exclusion_suppresses_brand() -> None:
    m = matcher()
    assert m.match("のろし台に登った") == []
    assert m.match("ノロシ台の歴史") == []  # exclude terms are normalised too
    assert m.match("ノロシのアプリ") == [1]


def test_exclusion_only_applies_to_its_own_brand() -> None:
    other = BrandRule(2, ["のろし"])
    m = matcher(NOROSHI, other)
    assert m.match("のろし台に登った") == [2]
    assert m.explain("のろし台に登った") == {2: ["のろし"]}


def test_exclusion_uses_boundaries() -> None:
    rule = BrandRule(3, ["apple"], exclude=["pie"])
    assert BrandMatcher([rule]).match("apple pie") == []
    assert BrandMatcher([rule]).match("apple pies are fine, apple store is down") == [3]


# ------------------------------------------------------------------------------ several brands, lang


def test_several_brands_in_one_post_sorted_unique() -> None:
    rules = [BrandRule(30, ["au"]), BrandRule(10, ["ドコモ", "docomo"]), BrandRule(20, ["ソフトバンク"])]
    m = BrandMatcher(rules)
    text = "ドコモもauもソフトバンクも全部つながらない docomo ドコモ"
    assert m.match(text) == [10, 20, 30]
    assert m.explain(text) == {10: ["ドコモ", "docomo"], 20: ["ソフトバンク"], 30: ["au"]}


def test_overlapping_keywords_of_different_brands() -> None:
    m = BrandMatcher([BrandRule(1, ["ノロシ"]), BrandRule(2, ["ロシア"]), BrandRule(3, ["ノロシア"])])
    assert m.match("ノロシア") == [1, 2, 3]


def test_keyword_prefix_of_another_keyword() -> None:
    m = BrandMatcher([BrandRule(1, ["noroshi"]), BrandRule(2, ["noroshi app"])])
    assert m.match("noroshi app") == [1, 2]
    assert m.match("noroshi apple") == [1]


def test_same_brand_in_several_rules() -> None:
    m = BrandMatcher(
        [BrandRule(5, ["狼煙"], languages=["ja"]), BrandRule(5, ["smoke signal"], languages=["en"])]
    )
    assert m.match("狼煙", lang="ja") == [5]
    assert m.match("smoke signal", lang="en") == [5]
    assert m.match("狼煙 smoke signal", lang="ja") == [5]
    assert m.explain("狼煙 smoke signal") == {5: ["狼煙", "smoke signal"]}
    assert m.match("smoke signal", lang="ja") == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (None, [1]),
        ("ja", [1]),
        ("en", [1]),
        ("ja-JP", [1]),
        ("EN_us", [1]),
        ("und", [1]),
        ("qht", [1]),
        ("", [1]),
        ("fr", []),
        ("zh-Hant", []),
    ],
)
def test_language_filter(lang: str | None, expected: list[int]) -> None:
    assert matcher().match("#狼煙", lang=lang) == expected


def test_rule_without_languages_matches_any_language() -> None:
    assert BrandMatcher([BrandRule(4, ["ノロシ"])]).match("ノロシ", lang="fr") == [4]


def test_explain_reports_configured_keywords_and_matches_match() -> None:
    m = matcher()
    text = "＃狼煙 @Noroshi_JP ノロシ アプリ 狼煙アプリ"
    assert m.explain(text) == {1: ["ノロシ", "#狼煙", "@noroshi_jp", "狼煙 アプリ"]}
    assert list(m.explain(text)) == m.match(text)
    assert m.explain("のろし台", lang="ja") == {}
    assert m.explain("ノロシ", lang="fr") == {}


def test_empty_matcher_matches_nothing() -> None:
    assert BrandMatcher([]).match("ノロシ") == []


# ---------------------------------------------------------------------------------------- validation


def test_valid_rule_has_no_problems() -> None:
    assert NOROSHI.validate() == []
    assert validate_keywords(["ノロシ"]) == []


@pytest.mark.parametrize(
    ("keywords", "fragment"),
    [
        ([], "empty"),
        (["ノロシ", ""], "keyword 2 '' is empty or whitespace-only"),
        (["  \u3000"], "whitespace-only"),
        (["\u200b\ufeff"], "normalises to nothing"),
        (["#"], "no letters or digits"),
        (["!!!"], "no letters or digits"),
        (["#狼煙 アプリ"], "cannot contain spaces"),
        (["a" * 101], "longer than"),
        (["a b c d e f g h i"], "more than"),
        ("ノロシ", "must be a list"),
        ([None], "not a string"),
    ],
)
def test_validate_keywords_problems(keywords: list[str], fragment: str) -> None:
    problems = validate_keywords(keywords)
    assert len(problems) == 1
    assert fragment in problems[0]


def test_rule_validate_reports_every_problem() -> None:
    rule = BrandRule(1, ["", "ok"], exclude=["  "], languages=["japanese!", "und"])
    problems = rule.validate()
    assert len(problems) == 4
    assert any("keyword 1" in p for p in problems)
    assert any("exclude term 1" in p for p in problems)
    assert any("'japanese!'" in p for p in problems)
    assert any("'und'" in p for p in problems)


def test_rule_validate_rejects_keyword_that_is_always_excluded() -> None:
    problems = BrandRule(1, ["ノロシ", "のろし台"], exclude=["ノロシ台"]).validate()
    assert problems == ["keyword 'のろし台' contains exclude term 'ノロシ台', so it can never match"]


def test_matcher_rejects_invalid_rules_with_brand_in_message() -> None:
    with pytest.raises(ValueError, match=r"brand 9: keyword list is empty"):
        BrandMatcher([NOROSHI, BrandRule(9, [])])


# ------------------------------------------------------------------------------------ engine corners


def test_mixed_kana_scripts_inside_one_word() -> None:
    assert hits(["ノロシ"], "ノろシ")
    assert hits(["のろし"], "のロし")


def test_regex_metacharacters_are_literal() -> None:
    rule = BrandRule(1, ["c++", "at&t", "[noroshi]", "a.b", "(株)ノロシ"])
    m = BrandMatcher([rule])
    assert m.explain("c++ at&t [Noroshi] a.b ㈱ノロシ") == {1: rule.keywords}
    assert m.match("axb noroshi cc") == []


def test_many_nested_prefix_keywords() -> None:
    m = BrandMatcher([BrandRule(i, ["a" * i]) for i in range(1, 101)])
    assert m.match("a" * 50 + " " + "aaa") == [3, 50]


@pytest.mark.parametrize(
    "text",
    ["ＮＯＲＯＳＨＩ", "ﾉﾛｼ台", "#狼煙　アプリ", "@Noroshi_JP", "ノ\u200bロシ", "auの障害", "狼煙\nアプリ"],
)
def test_pre_normalised_text_matches_the_same(text: str) -> None:
    m = BrandMatcher([NOROSHI, BrandRule(2, ["au"])])
    assert m.explain(normalize_text(text)) == m.explain(text)
