"""Behaviour of the negativity scorer (no shared data needed)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from collectors.negativity import NegativityScorer, Score, detect_language
from collectors.negativity.tsv import score_tsv


@pytest.fixture(scope="module")
def scorer() -> NegativityScorer:
    return NegativityScorer()


JA_NEGATIVE = [
    "このサポート最悪。二度と使わない",
    "まじで氏ねよｗｗｗ",
    "キモすぎて無理",
    "対応がひどい、謝罪しろ",
    "値上げとか本当にクソだな、不買する",
    "使いにくいし遅いし、がっかりした",
]
JA_POSITIVE = [
    "このお店最高！また来たい",
    "新作めっちゃかわいい、大好き",
    "丁寧に対応してくれてありがとう、嬉しい",
    "とても素敵な景色でした",
    "楽しいイベントでした、おめでとう！",
]
EN_NEGATIVE = [
    "Worst customer service ever, I hate this company",
    "This update is garbage and the app keeps crashing. Totally useless.",
    "So disappointed, never buying from them again",
    "What a scam, they stole my money",
]
EN_POSITIVE = [
    "I love this new phone, it's amazing!",
    "Great service, thank you so much :)",
    "Had a wonderful time at the concert tonight",
    "The staff were friendly and helpful",
]


def _scores(scorer: NegativityScorer, texts: list[str]) -> list[float]:
    return [s.score for s in scorer.score_batch(texts)]


@pytest.mark.parametrize(("neg", "pos"), [(JA_NEGATIVE, JA_POSITIVE), (EN_NEGATIVE, EN_POSITIVE)])
def test_every_negative_post_outscores_every_positive_post(
    scorer: NegativityScorer, neg: list[str], pos: list[str]
) -> None:
    assert min(_scores(scorer, neg)) > max(_scores(scorer, pos))


@pytest.mark.parametrize("texts", [JA_NEGATIVE, EN_NEGATIVE])
def test_clear_negatives_are_flagged(scorer: NegativityScorer, texts: list[str]) -> None:
    results = scorer.score_batch(texts)
    assert all(s.negative for s in results), [(t, s) for t, s in zip(texts, results, strict=True)]


@pytest.mark.parametrize("texts", [JA_POSITIVE, EN_POSITIVE])
def test_clear_positives_are_not_flagged(scorer: NegativityScorer, texts: list[str]) -> None:
    results = scorer.score_batch(texts)
    assert not any(s.negative for s in results), [(t, s) for t, s in zip(texts, results, strict=True)]


@pytest.mark.parametrize(
    ("plain", "negated"),
    [
        ("この店は良い", "この店は良くない"),
        ("デザインが好き", "デザインが好きじゃない"),
        ("味は美味しい", "味は美味しくなかった"),
        ("The food is good", "The food is not good"),
        ("I like the new design", "I don't like the new design"),
    ],
)
def test_negating_a_positive_word_makes_the_post_more_negative(
    scorer: NegativityScorer, plain: str, negated: str
) -> None:
    a, b = scorer.score_batch([plain, negated])
    assert b.score > a.score
    assert not a.negative
    assert b.negative


@pytest.mark.parametrize(
    ("plain", "negated"),
    [("この対応は悪い", "この対応は悪くない"), ("The food is bad", "The food is not bad")],
)
def test_negating_a_negative_word_makes_the_post_less_negative(
    scorer: NegativityScorer, plain: str, negated: str
) -> None:
    a, b = scorer.score_batch([plain, negated])
    assert a.negative
    assert b.score < a.score


def test_intensifier_and_slang_add_evidence(scorer: NegativityScorer) -> None:
    calm, angry = scorer.score_batch(["対応が悪い", "対応が本当に悪い、ふざけんな"])
    assert angry.score > calm.score


def test_mocking_laughter_after_insult_counts_as_negative(scorer: NegativityScorer) -> None:
    plain, mocking = scorer.score_batch(["お前バカだな", "お前バカだなｗｗｗ"])
    assert mocking.score >= plain.score
    assert mocking.negative


def test_neutral_posts_have_low_scores(scorer: NegativityScorer) -> None:
    for s in scorer.score_batch(["明日は10時に渋谷で会議があります", "The meeting starts at 10am in room 4"]):
        assert not s.negative
        assert 0.0 < s.score < 0.5


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("今日はいい天気ですね", "ja"),
        ("カタカナだけ", "ja"),
        ("炎上", "ja"),  # kanji only, no kana
        ("This is an English sentence.", "en"),
        ("iPhoneの新しいモデル、バッテリーがすぐ切れる", "ja"),  # mixed Latin + Japanese
        ("Loving the new ユニクロ store in NYC!", "ja"),  # any kana wins
        ("오늘 날씨가 좋네요", "ko"),
        ("我们今天去买东西", "zh"),
        ("Привет, как дела?", "ru"),
        ("", "und"),
        ("12345 !!! :)", "und"),
        ("😡😡😡", "und"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_batch_preserves_order_and_length(scorer: NegativityScorer) -> None:
    texts = [*JA_NEGATIVE, *EN_POSITIVE, *JA_POSITIVE, *EN_NEGATIVE]
    batch = scorer.score_batch(texts)
    assert len(batch) == len(texts)
    one_by_one = [scorer.score_batch([t])[0] for t in texts]
    assert batch == one_by_one
    reversed_batch = scorer.score_batch(texts[::-1])
    assert reversed_batch[::-1] == batch


def test_score_shape(scorer: NegativityScorer) -> None:
    s = scorer.score_batch(["最悪"])[0]
    assert isinstance(s, Score)
    assert isinstance(s.score, float) and 0.0 <= s.score <= 1.0
    assert isinstance(s.negative, bool)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.score = 0.0  # type: ignore[misc]
    assert scorer.score_batch([]) == []


def test_empty_and_blank_strings(scorer: NegativityScorer) -> None:
    results = scorer.score_batch(["", "   ", "\n", "最悪"])
    assert [s.negative for s in results[:3]] == [False, False, False]
    assert all(0.0 <= s.score < 0.5 for s in results[:3])
    assert results[0].lang == "und"
    assert results[3].negative


def test_declared_language_overrides_detection(scorer: NegativityScorer) -> None:
    texts = ["最悪", "最悪", "terrible", "terrible"]
    results = scorer.score_batch(texts, langs=[None, "ja", "en-US", None])
    assert [s.lang for s in results] == ["ja", "ja", "en", "en"]
    # A language we have no lexicon for still gets a valid, non-negative-by-default score.
    other = scorer.score_batch(["terrible"], langs=["de"])[0]
    assert other.lang == "de" and not other.negative


def test_langs_length_mismatch_is_an_error(scorer: NegativityScorer) -> None:
    with pytest.raises(ValueError, match="langs"):
        scorer.score_batch(["a", "b"], langs=["en"])


def test_score_tsv_reads_rows_in_order(tmp_path: Path, scorer: NegativityScorer) -> None:
    path = tmp_path / "posts.tsv"
    rows = ["最悪のサービス、二度と使わない", "Great job, love it!", "", "This is awful", "最高でした"]
    path.write_text("id\ttext\n" + "".join(f"{i}\t{t}\n" for i, t in enumerate(rows)), encoding="utf-8")
    out = list(score_tsv(path, scorer=scorer))
    assert len(out) == len(rows)
    assert all(set(r) == {"negative", "score", "lang"} for r in out)
    expected = scorer.score_batch(rows)
    assert [(r["negative"], r["score"], r["lang"]) for r in out] == [
        (s.negative, s.score, s.lang) for s in expected
    ]
    assert out[0]["negative"] and out[3]["negative"]
    assert not out[1]["negative"] and not out[4]["negative"]


def test_score_tsv_uses_lang_column(tmp_path: Path, scorer: NegativityScorer) -> None:
    path = tmp_path / "posts.tsv"
    path.write_text("text\tlang\nterrible\tfr\nterrible\t\n", encoding="utf-8")
    assert [r["lang"] for r in score_tsv(path, scorer=scorer)] == ["fr", "en"]


def test_score_tsv_without_text_column_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("body\tlabel\n最悪\tneg\n", encoding="utf-8")
    with pytest.raises(ValueError, match="text") as err:
        score_tsv(path)
    assert "body" in str(err.value)


def test_score_tsv_empty_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "empty.tsv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="text"):
        score_tsv(path)
