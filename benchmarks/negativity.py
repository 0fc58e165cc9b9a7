"""Negativity scoring benchmark: F1 of the `neg` class, AUC and throughput on the sentiment DEV sets.

    .venv/bin/python benchmarks/negativity.py [--data DIR] [--passes N] [--no-pin]

DIR defaults to ../shared/data/sentiment relative to the repository root and must hold
`ja_dev.tsv` / `en_dev.tsv` (`text<TAB>label`, label `neg` or `other`). Prints a Markdown table with
our scorer and, in the same run, the baselines: VADER alone (en) and a plain Tohoku-lexicon count
(ja: fugashi + IPAdic base forms, sum of polarities, negative when the sum is below zero).
Throughput is the median of N passes after a warm-up, pinned to one core when the OS allows it;
languages are detected per post (no declared language), as for a source that declares none.

Each file is also reported in two fixed halves, A and B (`half()`: parity of the SHA-1 of the text; the
Japanese DEV file was itself cut by MD5 parity, so MD5 would put every row in one half). Rules and
weights are tuned looking at half A only; a change is kept only when it also helps half B, which
stands in for unseen data.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import random
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collectors.negativity import NegativityScorer, resources  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "sentiment"
FILES = {"ja": "ja_dev.tsv", "en": "en_dev.tsv"}


def load(path: Path) -> tuple[list[str], list[bool]]:
    texts: list[str] = []
    labels: list[bool] = []
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            texts.append(row["text"] or "")
            labels.append(row["label"] == "neg")
    return texts, labels


def half(text: str) -> str:
    """Fixed split of a DEV file: "A" (tuning half) or "B" (check half)."""
    return "A" if int(hashlib.sha1(text.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "B"


def prf(pred: Sequence[bool], gold: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(1 for p, g in zip(pred, gold, strict=True) if p and g)
    fp = sum(1 for p, g in zip(pred, gold, strict=True) if p and not g)
    fn = sum(1 for p, g in zip(pred, gold, strict=True) if g and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def auc(scores: Sequence[float], gold: Sequence[bool]) -> float:
    """Mann-Whitney AUC with ties counted as half."""
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    n_pos = sum(gold)
    n_neg = len(gold) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    rank_sum = sum(r for r, g in zip(ranks, gold, strict=True) if g)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def throughput(fn: Callable[[list[str]], object], texts: list[str], passes: int) -> float:
    fn(texts[:200])  # warm-up
    times = []
    for _ in range(passes):
        t0 = time.perf_counter()
        fn(texts)
        times.append(time.perf_counter() - t0)
    return len(texts) / statistics.median(times)


class VaderBaseline:
    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._vader = SentimentIntensityAnalyzer()

    def __call__(self, texts: list[str]) -> list[tuple[float, bool]]:
        out = []
        for text in texts:
            c = self._vader.polarity_scores(text)["compound"]
            out.append((-c, c <= -0.05))
        return out


class TohokuBaseline:
    """Plain lexicon: Tohoku single-word entries on MeCab base forms, polarity sum, no rules."""

    def __init__(self) -> None:
        import fugashi
        import ipadic

        self._tagger = fugashi.GenericTagger(f"{ipadic.MECAB_ARGS} -F%f[6]\x1f -U%m\x1f -E\x1f")
        self._lex: dict[str, float] = {}
        for entry, weight, _src in resources.tohoku_entries():
            if " " not in entry:
                self._lex[entry] = -1.0 if weight < 0 else 1.0

    def __call__(self, texts: list[str]) -> list[tuple[float, bool]]:
        out = []
        lex = self._lex
        for text in texts:
            total = sum(lex.get(b, 0.0) for b in self._tagger.parse(text).split("\x1f"))
            out.append((-total, total < 0))
        return out


def run(data: Path, passes: int) -> list[list[str]]:
    scorer = NegativityScorer()

    def ours(texts: list[str]) -> list[tuple[float, bool]]:
        return [(s.score, s.negative) for s in scorer.score_batch(texts)]

    baselines: dict[str, tuple[str, Callable[[list[str]], list[tuple[float, bool]]]]] = {
        "en": ("VADER 3.3.2 alone (compound ≤ −0.05)", VaderBaseline()),
        "ja": ("plain Tohoku lexicon (fugashi+IPAdic, sum < 0)", TohokuBaseline()),
    }
    rows: list[list[str]] = []
    mix: list[str] = []
    for lang, fname in FILES.items():
        path = data / fname
        if not path.is_file():
            print(f"note: {path} is missing; skipping {lang}")
            continue
        texts, gold = load(path)
        mix.extend(texts)
        name, baseline = baselines[lang]
        parts = {p: [i for i, t in enumerate(texts) if half(t) == p] for p in ("A", "B")}
        parts["all"] = list(range(len(texts)))
        for label, fn in (("noroshi NegativityScorer", ours), (name, baseline)):
            results = fn(texts)
            speed = throughput(fn, texts, passes)
            for part, idx in parts.items():
                p, r, f1 = prf([results[i][1] for i in idx], [gold[i] for i in idx])
                a = auc([results[i][0] for i in idx], [gold[i] for i in idx])
                rows.append(
                    [
                        lang,
                        label,
                        part,
                        str(len(idx)),
                        f"{p:.3f}",
                        f"{r:.3f}",
                        f"{f1:.3f}",
                        f"{a:.3f}",
                        f"{speed:,.0f}" if part == "all" else "",
                    ]
                )
        detected = scorer.score_batch(texts)
        other = sum(1 for s in detected if s.lang != lang)
        if other:
            print(f"note: {other} of {len(texts)} {lang} rows were detected as another language")
    if mix:
        random.Random(0).shuffle(mix)
        speed = throughput(ours, mix, passes)
        rows.append(
            ["ja+en mix", "noroshi NegativityScorer", "all", str(len(mix)), "", "", "", "", f"{speed:,.0f}"]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder with ja_dev.tsv / en_dev.tsv")
    parser.add_argument("--passes", type=int, default=3, help="timed passes (median is reported)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin the process to one core")
    args = parser.parse_args(argv)
    data: Path = args.data
    if not data.is_dir() or not any((data / f).is_file() for f in FILES.values()):
        print(f"Sentiment data not found at {data} (want {', '.join(FILES.values())}); nothing to benchmark.")
        return 0
    pinned = "not pinned"
    if not args.no_pin and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
            pinned = f"pinned to core {min(os.sched_getaffinity(0))}"
        except OSError:
            pass
    rows = run(data, args.passes)
    print()
    print("| lang | scorer | half | rows | P | R | F1 | AUC | posts/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    cmd = " ".join(shlex.quote(a) for a in [".venv/bin/python", "benchmarks/negativity.py", *sys.argv[1:]])
    print()
    print(
        f"F1/P/R for the `neg` class at each scorer's natural rule; posts/s = median of {args.passes} "
        f"passes after warm-up, one process, {pinned}, Python {sys.version.split()[0]}. "
        "Half A = tuning half, B = check half (see `half()`); throughput is for the whole file."
    )
    print(f"Command: `{cmd}` (data: {data})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
