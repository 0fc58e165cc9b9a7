"""Driver terms: Japanese content words from MeCab (not character bigrams), ranked by weighted log-odds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from alerting.drivers import japanese_words, tokenize, top_terms

BASELINE = [f"今日のランチはカレーでした {i}" for i in range(60)] + [
    f"新作のラテが美味しい {i}" for i in range(40)
]


def test_japanese_posts_give_words_not_bigrams() -> None:
    tokens = tokenize("ノロシ珈琲の店員がバイトテロ動画を投稿して炎上している")
    assert {"店員", "バイトテロ", "炎上", "投稿"} <= tokens
    assert not {"イト", "バイ", "の店", "がバ"} & tokens  # the old character bigrams
    assert not {"の", "が", "を", "して", "いる"} & tokens  # particles and auxiliaries


def test_compounds_keep_their_parts_and_adjectives_their_base_form() -> None:
    words = japanese_words("異物混入があったらしい、ひどかった")
    assert "異物混入" in words and "異物" in words and "混入" in words
    assert "ひどい" in words  # 形容詞 in its dictionary form


def test_stop_words_numbers_and_excluded_phrases_are_dropped() -> None:
    tokens = tokenize("今日は自分もこと3回 ノロシ珈琲 https://x.example/a @someone", exclude=["ノロシ珈琲"])
    assert not {"今日", "自分", "こと", "3", "ノロシ", "珈琲", "ノロシ珈琲", "someone"} & tokens


def test_half_width_katakana_is_normalised() -> None:
    assert "バイトテロ" in tokenize("ﾊﾞｲﾄﾃﾛが拡散中")


def test_a_burst_phrase_ranks_first_as_a_whole_word() -> None:
    incident = (
        BASELINE[:30]
        + [f"ノロシ珈琲でバイトテロがあったらしい {i}" for i in range(25)]
        + [f"店員の態度が最悪だった {i}" for i in range(10)]
    )
    ranked = top_terms(incident, BASELINE, k=5, exclude=["ノロシ珈琲"])
    terms = [term for term, _ in ranked]
    assert terms[0] == "バイトテロ"
    assert "店員" in terms or "態度" in terms or "最悪" in terms
    assert not any(term in {"バイト", "テロ"} for term in terms)  # the phrase stands for its parts
    assert all(term not in {"ノロシ珈琲", "ノロシ", "珈琲"} for term in terms)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_two_different_things_sharing_a_word_are_both_shown() -> None:
    incident = [f"バイトテロの動画 {i}" for i in range(12)] + [f"バイト募集の張り紙 {i}" for i in range(12)]
    terms = [term for term, _ in top_terms(incident, BASELINE, k=6)]
    assert "バイトテロ" in terms
    assert any(term.startswith("バイト") and term != "バイトテロ" for term in terms)


def test_latin_words_still_work() -> None:
    ranked = top_terms(["Boycott the brand now"] * 10 + ["nice latte"] * 5, ["nice latte"] * 20, k=3)
    assert ranked[0][0] == "boycott"
    assert "the" not in tokenize("the brand")


def test_tagging_is_safe_from_many_threads() -> None:
    texts = ["店員がバイトテロ動画を投稿", "異物混入で謝罪"] * 50
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(tokenize, texts))
    assert results[0] == tokenize(texts[0]) and results[1] == tokenize(texts[1])
    assert all(result == results[i % 2] for i, result in enumerate(results))
