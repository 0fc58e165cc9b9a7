"""What people are talking about: terms over-represented in an incident's posts vs the day before.

Pure functions, no I/O. Tokens are character bigrams of CJK runs (Japanese has no spaces; bigrams
need no dictionary and catch both kanji compounds and katakana names) plus lower-cased Latin words.
Each post counts a token once (document frequency), so one long or repetitive post cannot dominate.

Ranking is the weighted log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi & Quinn
2008, "Fightin' Words"): the prior for a term is its share of the pooled incident + baseline counts,
which shrinks rare terms towards "no difference" and keeps frequent function-like terms from
dominating; the score is the z of the log-odds difference, so it accounts for how much evidence there is.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

# CJK ideographs, hiragana, katakana (incl. the long-vowel mark and half-width katakana).
_CJK = "\u3041-\u309f\u30a0-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f々〆ヵヶ"
_TOKEN_RE = re.compile(rf"[{_CJK}]+|[a-z0-9][a-z0-9'_\-]*[a-z0-9]|[a-z0-9]")
_CJK_RE = re.compile(f"[{_CJK}]")
_HIRAGANA_RE = re.compile(r"^[\u3041-\u309f]+$")
_URL_RE = re.compile(r"https?://\S+|www\.\S+")
_HANDLE_RE = re.compile(r"[@＠][A-Za-z0-9_.]+")

# Function words. Hiragana bigrams are mostly grammar; a short list keeps the common ones out while
# hiragana content words (まずい, ひどい) still come through.
JA_STOP_BIGRAMS = frozenset(
    (
        "これ",
        "それ",
        "あれ",
        "どれ",
        "この",
        "その",
        "あの",
        "どの",
        "ここ",
        "そこ",
        "です",
        "ます",
        "まし",
        "した",
        "して",
        "しま",
        "って",
        "いる",
        "いた",
        "いう",
        "ある",
        "あっ",
        "なる",
        "なっ",
        "れる",
        "られ",
        "こと",
        "もの",
        "ので",
        "から",
        "けど",
        "たい",
        "よう",
        "など",
        "ため",
        "とか",
        "でも",
        "また",
        "まだ",
        "もう",
        "さん",
        "ちゃ",
        "とい",
        "いっ",
        "てい",
        "てる",
        "でし",
        "だっ",
        "ない",
        "なか",
        "かっ",
        "にも",
        "のは",
        "には",
        "では",
        "とは",
        "ても",
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


_PARTICLES = frozenset("のをにはがへとでもや")


def _normalise(text: str) -> str:
    return _HANDLE_RE.sub(" ", _URL_RE.sub(" ", text)).lower()


def _keep_bigram(bigram: str) -> bool:
    if bigram in JA_STOP_BIGRAMS:
        return False
    a, b = bigram
    if _HIRAGANA_RE.match(bigram):
        return a not in _PARTICLES
    # a particle glued to a content character ("琲の", "の新") spans a word boundary
    return not (
        (a in _PARTICLES and _HIRAGANA_RE.match(a) and not _HIRAGANA_RE.match(b))
        or (b in _PARTICLES and not _HIRAGANA_RE.match(a))
    )


def tokenize(text: str) -> set[str]:
    """The distinct tokens of one post: CJK character bigrams and Latin words, minus stopwords."""
    tokens: set[str] = set()
    for run in _TOKEN_RE.findall(_normalise(text)):
        if _CJK_RE.match(run):
            bigrams = (run[i : i + 2] for i in range(len(run) - 1))
            tokens.update(bigram for bigram in bigrams if _keep_bigram(bigram))
        elif len(run) >= MIN_LATIN_LEN and not run.isdigit() and run not in EN_STOPWORDS:
            tokens.add(run)
    return tokens


def _document_counts(texts: list[str]) -> tuple[Counter[str], int]:
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(tokenize(text))
    return counts, sum(counts.values())


def _join_bigrams(
    best: list[tuple[str, float]], counts: Counter[str], texts: list[str], k: int
) -> list[tuple[str, float]]:
    """Glue overlapping CJK bigrams back into their phrase ("異物" + "物混" + "混入" → "異物混入").

    Two bigrams are joined only when the joined string occurs in as many incident posts as the
    bigram itself, i.e. they really are one phrase and not two words that happen to share a character.
    """
    normalised = [_normalise(text) for text in texts]
    pending = {term for term, _ in best if _CJK_RE.match(term)}
    used: set[str] = set()
    result: list[tuple[str, float]] = []
    for term, score in best:
        if term in used:
            continue
        used.add(term)
        phrase = term
        if term in pending:
            for grow_right in (True, False):
                while True:
                    edge = phrase[-1] if grow_right else phrase[0]
                    nxt = next(
                        (
                            t
                            for t in pending - used
                            if (t[0] if grow_right else t[-1]) == edge and counts[t] == counts[term]
                        ),
                        None,
                    )
                    if nxt is None:
                        break
                    longer = phrase + nxt[1] if grow_right else nxt[0] + phrase
                    if sum(longer in text for text in normalised) < counts[term]:
                        break
                    used.add(nxt)
                    phrase = longer
        result.append((phrase, score))
        if len(result) == k:
            break
    return result


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
    least `min_count` incident posts; overlapping CJK bigrams of one phrase are returned joined.
    `prior_weight` scales the Dirichlet prior (pooled counts × weight). Tokens of the `exclude`
    phrases (e.g. the brand's own keywords, present in every matched post) are never returned.
    """
    texts = list(incident_texts)
    incident, n_i = _document_counts(texts)
    for phrase in exclude:
        for token in tokenize(phrase):
            incident.pop(token, None)
    baseline, n_j = _document_counts(list(baseline_texts))
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
    scored.sort(key=lambda item: (-item[1], item[0]))
    return _join_bigrams(scored[: k * 4], incident, texts, k)
