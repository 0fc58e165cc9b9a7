"""Behaviour of the negativity scorer (no shared data needed)."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor
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


# --- Complaints without a sentiment word, and their neutral look-alikes (own examples) ---------------

COMPLAINT_PAIRS = [
    # (complaint, a neutral post sharing most of its words)
    (
        "Noroshi Coffee staff licked the cream nozzle?? Never going back",
        "Going back to Noroshi Coffee tomorrow",
    ),
    ("I am so done with this airline", "Done with my homework, going out now"),
    ("What a joke of a refund policy", "What a view from the top floor"),
    ("I can't believe they charged me twice for one coffee", "I believe the café opens at nine"),
    ("this fucking app logged me out again", "this app logged me out again"),
    ("ugh, the train is late again", "the train is here again"),
    ("この店、会計がめんどいしドン引きした", "この店、会計が早くて助かった"),
    ("なんでこんなに配送が遅いの？", "これはどこで買えるの？"),
    ("いつまで待たせるのかよ", "いつまで待てばいいですか"),
    ("もう店員に期待してねーよ", "店員さんに聞いてみます"),
    ("荷物が届かない", "荷物が届いた"),
    ("早く返金しろ", "返金の手続きをしました"),
    ("公式の対応はどうかと思う", "公式の対応を待ちます"),
    ("店員の態度がサイアク", "店員の態度がサイコー"),  # katakana emphasis spelling
]


@pytest.mark.parametrize(("complaint", "neutral"), COMPLAINT_PAIRS)
def test_complaint_phrases_are_flagged_and_their_look_alikes_are_not(
    scorer: NegativityScorer, complaint: str, neutral: str
) -> None:
    c, n = scorer.score_batch([complaint, neutral])
    assert c.negative, (complaint, c)
    assert not n.negative, (neutral, n)
    assert c.score > n.score


def test_like_as_a_preposition_is_not_negated_dislike(scorer: NegativityScorer) -> None:
    simile, dislike = scorer.score_batch(
        ["Doesn't the new logo look like a fish?", "I don't like the new logo"]
    )
    assert not simile.negative
    assert dislike.negative


def test_profanity_boosting_praise_stays_positive(scorer: NegativityScorer) -> None:
    assert not scorer.score_batch(["that was a fucking amazing concert"])[0].negative


@pytest.mark.parametrize(
    ("negative", "not_negative"),
    [
        ("信じられない対応", "信じられる対応"),  # negation across the potential suffix られる
        ("この店で買って後悔した", "後悔しない買い物だった"),  # noun + しない negates the noun
    ],
)
def test_japanese_negation_across_suffixes(
    scorer: NegativityScorer, negative: str, not_negative: str
) -> None:
    a, b = scorer.score_batch([negative, not_negative])
    assert a.negative and not b.negative
    assert a.score > b.score


def test_conditional_must_is_not_a_negation(scorer: NegativityScorer) -> None:
    # 行かなければならない = "have to go": two negators, no complaint.
    assert not scorer.score_batch(["明日は早く行かなければならない"])[0].negative


def test_degree_adverb_is_not_an_opinion(scorer: NegativityScorer) -> None:
    # 大変 alone is "a disaster"; before another word it only means "very".
    very_tasty, disaster = scorer.score_batch(["大変おいしかった", "それは大変だ"])
    assert not very_tasty.negative
    assert disaster.negative


def test_kitchen_is_not_the_slur_suffix(scorer: NegativityScorer) -> None:
    kitchen, slur = scorer.score_batch(["厨房で料理長が調理しています", "公式厨うざい"])
    assert not kitchen.negative
    assert slur.negative


@pytest.mark.parametrize(
    ("apology", "complaint"),
    [
        ("【お詫び】ご迷惑をおかけし大変申し訳ございません。", "迷惑した、ちゃんと謝罪しろ"),
        ("We apologize for any inconvenience caused.", "Your inconvenience fee is a rip-off"),
    ],
)
def test_a_brands_apology_formula_is_not_a_complaint(
    scorer: NegativityScorer, apology: str, complaint: str
) -> None:
    a, c = scorer.score_batch([apology, complaint])
    assert not a.negative, a
    assert c.negative, c


def test_an_apology_still_reports_the_incident(scorer: NegativityScorer) -> None:
    formula_only, with_fact = scorer.score_batch(
        ["ご迷惑をおかけし申し訳ございません。", "システム障害により、ご迷惑をおかけし申し訳ございません。"]
    )
    assert with_fact.score > formula_only.score


# --- Thread safety ---------------------------------------------------------------------------------


def test_one_scorer_shared_by_threads_gives_the_sequential_results(scorer: NegativityScorer) -> None:
    texts = [*JA_NEGATIVE, *JA_POSITIVE, *EN_NEGATIVE, *EN_POSITIVE] + [
        c for pair in COMPLAINT_PAIRS for c in pair
    ]
    # Long posts make MeCab's per-parse state large, so interleaved parses would garble each other.
    # (fugashi 1.x holds the GIL while parsing, so today a shared tagger would pass too; this guards
    # against a fugashi that releases it, free-threaded Python, or shared state added to the scorer.)
    texts += [t * 20 for t in JA_NEGATIVE + JA_POSITIVE]
    expected = scorer.score_batch(texts)
    start = threading.Barrier(8)

    def work(seed: int) -> list[list[Score]]:
        order = texts[seed:] + texts[:seed]  # each thread in a different order
        start.wait()
        runs = [scorer.score_batch(order) for _ in range(15)]
        return [run[len(texts) - seed :] + run[: len(texts) - seed] for run in runs]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    for runs in results:
        for run in runs:
            assert run == expected


def test_a_scorer_built_in_one_thread_works_in_another() -> None:
    built: list[NegativityScorer] = []
    t = threading.Thread(target=lambda: built.append(NegativityScorer()))
    t.start()
    t.join()
    assert built[0].score_batch(["最悪の対応"])[0].negative


def test_phrase_valence_adds_like_a_lexicon_word() -> None:
    from collectors.negativity.en import add_valence

    assert add_valence(0.0, 0.0) == 0.0
    # Adding a negative word pushes any compound down, never past -1, and is undone by its opposite.
    for compound in (-0.99, -0.5, 0.0, 0.3, 0.9, 1.0):
        lower = add_valence(compound, -2.0)
        assert -1.0 < lower < compound
        assert add_valence(lower, 2.0) == pytest.approx(min(compound, 0.9999), abs=1e-6)
