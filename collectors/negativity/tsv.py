"""Score a TSV file of posts (the `noroshi negativity FILE.tsv` command wraps this)."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from collectors.negativity.scorer import NegativityScorer

BATCH = 1000


def score_tsv(
    path: str | PathLike[str], scorer: NegativityScorer | None = None
) -> Iterator[dict[str, bool | float | str]]:
    """Yield {"negative", "score", "lang"} for each data row of a UTF-8 TSV, in file order.

    The file needs a header line with a `text` column; an optional `lang` column is used as the
    declared language of each row (empty = detect). The header is checked when this is called (not on
    first iteration): ValueError if the file is empty or has no `text` column.
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with Path(path).open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE), None)
    if header is None:
        raise ValueError(f"{path}: empty file, expected a header line with a 'text' column")
    columns = [h.strip() for h in header]
    if "text" not in columns:
        found = ", ".join(repr(c) for c in columns)
        raise ValueError(f"{path}: no 'text' column in the TSV header (columns found: {found})")
    lang_at = columns.index("lang") if "lang" in columns else None
    return _rows(Path(path), columns.index("text"), lang_at, scorer or NegativityScorer())


def _rows(
    path: Path, text_at: int, lang_at: int | None, scorer: NegativityScorer
) -> Iterator[dict[str, bool | float | str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader, None)  # header, checked by score_tsv
        texts: list[str] = []
        langs: list[str | None] = []
        for row in reader:
            texts.append(row[text_at] if text_at < len(row) else "")
            lang = row[lang_at].strip() if lang_at is not None and lang_at < len(row) else ""
            langs.append(lang or None)
            if len(texts) >= BATCH:
                yield from _scored(scorer, texts, langs)
                texts, langs = [], []
        if texts:
            yield from _scored(scorer, texts, langs)


def _scored(
    scorer: NegativityScorer, texts: list[str], langs: list[str | None]
) -> Iterator[dict[str, bool | float | str]]:
    for s in scorer.score_batch(texts, langs):
        yield {"negative": s.negative, "score": s.score, "lang": s.lang}
