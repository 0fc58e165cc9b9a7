"""What people are talking about: terms over-represented in an incident's posts vs the day before.

Pure functions (the only state is a per-thread MeCab tagger over the bundled IPAdic dictionary).
Japanese has no spaces, so Japanese runs are split into words by MeCab and the content words kept:
nouns, joined into their compound ("バイト" + "テロ" → "バイトテロ", "異物" + "混入" → "異物混入"), and
adjectives in their dictionary form ("ひどい"); particles, auxiliaries, pronouns, numbers and a short list
of everyday nouns are dropped. A compound's longer parts are counted too, so "店員" is found whether a
post says "店員" or "バイト店員"; the ranking then shows a part only when no shown phrase already contains
it. Latin text gives lower-cased words. Each post counts a token once (document frequency), so one long
or repetitive post cannot dominate.

Ranking is the weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
2008, "Fightin' Words"): the prior for a term is its share of the pooled incident + baseline counts,
which shrinks rare terms towards "no difference" and keeps frequent function-like terms from
dominating; the score is the z of the log-odds difference, so it accounts for how much evidence there is.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Iterable

import fugashi
import ipadic

# CJK ideographs, hiragana, katakana (incl. the long-vowel mark and half-width katakana).
_CJK = "\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f々〆ヵヶ"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[a-z0-9][a-z0-9'_\-]*[a-z0-9]|[a-z0-9]")
_CJK_RE = re.compile(f"[{_CJK}]")
_KANJI_RE = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々]$")
_URL_RE = re.compile(r"https?://\S+|www\.\S+")
_HANDLE_RE = re.compile(r"[@＠][A-Za-z0-9_.]+")

# MeCab output: surface, base form, part of speech, subclass per token (IPAdic tags).
_FIELD, _TOKEN, _EOS = "\x1f", "\x1e", "\x07"
_FORMAT = f"%m{_FIELD}%f[6]{_FIELD}%f[0]{_FIELD}%f[1]{_TOKEN}"
_UNKNOWN = f"%m{_FIELD}%m{_FIELD}%f[0]{_FIELD}%f[1]{_TOKEN}"
# Noun subclasses that make up content compounds; a suffix (接尾: "店員さん" no, "高すぎ" no) only
# continues one. 非自立/代名詞/数/副詞可能 ("こと", "これ", "3", "今日") never start or join a compound.
_COMPOUND_NOUNS = frozenset({"一般", "固有名詞", "サ変接続", "形容動詞語幹", "ナイ形容詞語幹"})
MAX_COMPOUND_PARTS = 3
JA_STOPWORDS = frozenset(
    (
        "こと",
        "もの",
        "よう",
        "ため",
        "さん",
        "ちゃん",
        "くん",
        "人",
        "方",
        "感じ",
        "時",
        "今",
        "今日",
        "昨日",
        "明日",
        "自分",
        "みんな",
        "皆",
        "本当",
        "ほんと",
        "笑",
        "www",
        "気",
        "的",
        "系",
        "件",
        "話",
        "時間",
        "場合",
        "一",
        "二",
        "何",
        "なに",
    )
)
EN_STOPWORDS = frozenset(
    (
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "all",
        "any",
        "can",
        "had",
        "her",
        "was",
        "one",
        "our",
        "out",
        "has",
        "have",
        "him",
        "his",
        "how",
        "its",
        "may",
        "new",
        "now",
        "off",
        "own",
        "say",
        "she",
        "too",
        "use",
        "who",
        "why",
        "yes",
        "yet",
        "get",
        "got",
        "just",
        "like",
        "that",
        "this",
        "with",
        "from",
        "they",
        "them",
        "then",
        "than",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "would",
        "could",
        "should",
        "about",
        "into",
        "over",
        "after",
        "very",
        "more",
        "most",
        "some",
        "such",
        "only",
        "also",
        "been",
        "being",
        "were",
        "your",
        "yours",
        "their",
        "there",
        "these",
        "those",
        "here",
        "http",
        "https",
        "www",
        "com",
        "amp",
        "via",
    )
)
MIN_LATIN_LEN = 3

_local = threading.local()


def _tagger() -> fugashi.GenericTagger:
    """One tagger per thread: a MeCab tagger keeps per-parse state (the dictionary is shared, mapped)."""
    tagger: fugashi.GenericTagger | None = getattr(_local, "tagger", None)
    if tagger is None:
        tagger = fugashi.GenericTagger(f"{ipadic.MECAB_ARGS} -F{_FORMAT} -U{_UNKNOWN} -E{_EOS}")
        _local.tagger = tagger
    return tagger


def _normalise(text: str, exclude: Iterable[str] = ()) -> str:
    """NFKC + lower case, without links, @handles and the excluded phrases (the brand's own name)."""
    text = unicodedata.normalize("NFKC", _HANDLE_RE.sub(" ", _URL_RE.sub(" ", text))).lower()
    for phrase in exclude:
        if phrase:
            text = text.replace(phrase, " ")
    return text


def _content_word(word: str) -> bool:
    return word not in JA_STOPWORDS and (len(word) > 1 or bool(_KANJI_RE.match(word)))


def japanese_words(run: str) -> list[str]:
    """Content words of a Japanese run: noun compounds (and their longer parts) and adjectives."""
    words: list[str] = []
    compound: list[str] = []

    def close() -> None:
        if compound:
            if len(compound) <= MAX_COMPOUND_PARTS:
                words.append("".join(compound))
            for size in range(1, min(len(compound), MAX_COMPOUND_PARTS + 1)):  # the shorter phrases in it
                words.extend("".join(compound[i : i + size]) for i in range(len(compound) - size + 1))
            compound.clear()

    for token in _tagger().parse(run).rstrip(_EOS + "\n").split(_TOKEN):
        fields = token.split(_FIELD)
        if len(fields) < 4:
            continue
        surface, base, pos, sub = fields[:4]
        if pos == "名詞" and (sub in _COMPOUND_NOUNS or (sub == "接尾" and compound)):
            compound.append(surface)
            continue
        close()
        if pos == "形容詞" and sub == "自立":
            words.append(base if base != "*" else surface)
    close()
    return [word for word in words if _content_word(word)]


def tokenize(text: str, exclude: Iterable[str] = ()) -> set[str]:
    """The distinct tokens of one post: Japanese content words and Latin words, minus stop words."""
    tokens: set[str] = set()
    for run in _TOKEN_RE.findall(_normalise(text, exclude)):
        if _CJK_RE.match(run):
            tokens.update(japanese_words(run))
        elif len(run) >= MIN_LATIN_LEN and not run.isdigit() and run not in EN_STOPWORDS:
            tokens.add(run)
    return tokens


def _document_counts(texts: list[str], exclude: list[str]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenize(text, exclude))
    return counts, sum(counts.values())


PHRASE_SHARE = 0.75  # a longer phrase stands for a word when this share of the word's posts use it


def _phrase(term: str, counts: Counter[str], candidates: list[str]) -> str:
    """The longest scored phrase containing `term` that most of the term's posts use ("テロ" →
    "バイトテロ" when nearly every post with テロ says バイトテロ), else the term itself."""
    longer = [c for c in candidates if term in c and c != term and counts[c] >= PHRASE_SHARE * counts[term]]
    return max(longer, key=lambda c: (len(c), counts[c]), default=term)


def _shown(scored: list[tuple[str, float]], counts: Counter[str], k: int) -> list[tuple[str, float]]:
    """The best k terms, each shown as its phrase and without saying one thing twice: a phrase inside
    one already shown is left out; a phrase around a shown one replaces it when most posts of the
    shown word use it ("バイト" → "バイトテロ"); otherwise it is shown too when it says something new
    (its own word is not shown yet), else it is a rarer variant and left out."""
    candidates = [term for term, _ in scored]
    shown: list[tuple[str, float, str]] = []  # (phrase, score, the term it grew from)
    for term, score in scored:
        phrase = _phrase(term, counts, candidates)
        if any(phrase in kept for kept, _, _ in shown):
            continue
        inside = [i for i, (kept, _, _) in enumerate(shown) if kept in phrase]
        if not inside:
            if len(shown) < k:
                shown.append((phrase, score, term))
        elif all(counts[phrase] >= PHRASE_SHARE * counts[shown[i][2]] for i in inside):
            first = shown[inside[0]]
            shown[inside[0]] = (phrase, first[1], first[2])
            shown = [item for i, item in enumerate(shown) if i not in inside[1:]]
        elif len(shown) < k and not any(term in kept for kept, _, _ in shown):
            shown.append((phrase, score, term))  # "テロ" → "バイトテロ" next to a shown "バイト"
    return [(phrase, score) for phrase, score, _ in shown]


def top_terms(
    incident_texts: Iterable[str],
    baseline_texts: Iterable[str],
    k: int = 10,
    min_count: int = 2,
    prior_weight: float = 1.0,
    exclude: Iterable[str] = (),
) -> list[tuple[str, float]]:
    """The k terms most over-represented in `incident_texts` relative to `baseline_texts`.

    Returns (term, z-score) pairs, best first: only terms with a positive score that occur in at
    least `min_count` incident posts. `prior_weight` scales the Dirichlet prior (pooled counts ×
    weight). The `exclude` phrases (e.g. the brand's own keywords, present in every matched post) are
    cut out of the texts before they are split into words, so they never come back as a driver.
    """
    dropped = sorted({_normalise(p).strip() for p in exclude} - {""}, key=len, reverse=True)
    incident, n_i = _document_counts(list(incident_texts), dropped)
    baseline, n_j = _document_counts(list(baseline_texts), dropped)
    if n_i == 0 or k <= 0:
        return []
    pooled_total = n_i + n_j
    alpha0 = prior_weight * pooled_total
    scored: list[tuple[str, float]] = []
    for term, y_i in incident.items():
        if y_i < min_count:
            continue
        y_j = baseline.get(term, 0)
        alpha = alpha0 * (y_i + y_j) / pooled_total
        # log-odds of the term in each corpus, smoothed by the prior
        odds_i = math.log((y_i + alpha) / max(n_i + alpha0 - y_i - alpha, 1e-9))
        odds_j = math.log((y_j + alpha) / max(n_j + alpha0 - y_j - alpha, 1e-9))
        variance = 1.0 / (y_i + alpha) + 1.0 / (y_j + alpha)
        z = (odds_i - odds_j) / math.sqrt(variance)
        if z > 0:
            scored.append((term, z))
    scored.sort(key=lambda item: (-round(item[1], 9), -len(item[0]), item[0]))
    return _shown(scored, incident, k)
