"""English negativity evidence: VADER (Hutto & Gilbert 2014, MIT) with our own additions.

VADER already handles negation ("not good"), boosters, ALL CAPS, "but" clauses, exclamation marks,
emoticons and emoji (via its emoji-description lexicon). On top of it:
- words it lacks that matter for brand monitoring, and masked profanity (`en_lexicon.tsv`);
- clean-up of what feeds leak into text: JSON `\\uXXXX` escapes and HTML entities (`&amp;`), so that
  "Don\\u2019t like" is negated and "sucks\\u002c" is a word;
- "no longer" negates like "not";
- names are not opinions: sentiment words inside a mid-sentence run of Capitalised Words ("American
  Horror Story", "the Grateful Dead", "Dead Sea") are masked.
"""

from __future__ import annotations

import html
import re

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from collectors.negativity import resources

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_NO_LONGER = re.compile(r"\b(?i:no longer)\b")
# Two or more Capitalised Words (joined by of/the/and/&) after a lower-case word or a comma, i.e. not
# at the start of a sentence, where capitals are ordinary.
_NAME = re.compile(r"(?<=[a-z0-9,;:] )[A-Z][a-z'\u2019]+(?: (?:of|the|de|and|&) )?(?: ?[A-Z][a-z'\u2019]+)+")
_WORD_JOINER = "\u2060"  # invisible; a masked word no longer matches VADER's lexicon


def _mask(match: re.Match[str]) -> str:
    return " ".join(_WORD_JOINER + w if w[:1].isupper() else w for w in match.group(0).split(" "))


def preprocess(text: str) -> str:
    if "\\u" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "&" in text:
        text = html.unescape(text)
    text = _NO_LONGER.sub("not longer", text)
    return _NAME.sub(_mask, text)


class EnglishEvidence:
    """VADER's compound polarity (-1..1) for a post."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()
        for word, valence, _kind in resources.own_entries("en_lexicon.tsv"):
            self._vader.lexicon[word.lower()] = valence

    def compound(self, text: str) -> float:
        if not text.strip():
            return 0.0
        return float(self._vader.polarity_scores(preprocess(text))["compound"])
