"""English negativity evidence: VADER (Hutto & Gilbert 2014, MIT) with our own additions.

VADER already handles negation ("not good"), boosters, ALL CAPS, "but" clauses, exclamation marks,
emoticons and emoji (via its emoji-description lexicon). On top of it:
- words it lacks that matter for brand monitoring, and masked profanity (`en_lexicon.tsv`);
- clean-up of what feeds leak into text: JSON `\\uXXXX` escapes and HTML entities (`&amp;`), so that
  "Don\\u2019t like" is negated and "sucks\\u002c" is a word;
- "no longer" negates like "not";
- "like" as a preposition ("looks like", "feels like", "it's like") is not the verb "to like", so a
  negation before it ("doesn't look like") no longer reads as dislike;
- complaint phrases without a sentiment word ("never going back", "what a joke", "can't believe",
  `en_phrases.tsv`): each hit is added to VADER's valence sum like one more lexicon word;
- a company's apology formula ("We apologise for any inconvenience caused") is removed before scoring:
  it is the brand apologising, not a complaint; the facts it reports ("the outage") still count;
- names are not opinions: sentiment words inside a mid-sentence run of Capitalised Words ("American
  Horror Story", "the Grateful Dead", "Dead Sea") are masked.
"""

from __future__ import annotations

import html
import math
import re

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from collectors.negativity import resources

_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_NO_LONGER = re.compile(r"\b(?i:no longer)\b")
# Two or more Capitalised Words (joined by of/the/and/&) after a lower-case word or a comma, i.e. not
# at the start of a sentence, where capitals are ordinary.
_NAME = re.compile(r"(?<=[a-z0-9,;:] )[A-Z][a-z'\u2019]+(?: (?:of|the|de|and|&) )?(?: ?[A-Z][a-z'\u2019]+)+")
_WORD_JOINER = "\u2060"  # invisible; a masked word no longer matches VADER's lexicon
_APOLOGY = re.compile(
    r"(?i)\b(?:we|i)(?:'re|\s+are|\s+am)?\s+(?:sincerely\s+|truly\s+|deeply\s+|very\s+|so\s+)?"
    r"(?:sorry|apologi[sz]e)\s+for\s+(?:the|any|this)\s+(?:inconvenience|trouble|disruption)(?:\s+caused)?"
)
_PREPOSITION_LIKE = re.compile(
    r"(?i)\b((?:look|looks|looked|looking|feel|feels|felt|feeling|seem|seems|seemed|sound|sounds|sounded"
    r"|smell|smells|taste|tastes|act|acts|acting|it'?s|that'?s|was|is|be|more|less|nothing|something)"
    r"\s+)(like)\b"
)
# VADER's compound is x / sqrt(x² + ALPHA) of the valence sum x; inverting it lets a phrase hit be added
# in valence units (the same scale as the lexicon) rather than bolted onto the squashed compound.
_ALPHA = 15.0
_MAX_COMPOUND = 0.9999


def _mask(match: re.Match[str]) -> str:
    return " ".join(_WORD_JOINER + w if w[:1].isupper() else w for w in match.group(0).split(" "))


def preprocess(text: str) -> str:
    if "\\u" in text:
        text = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "&" in text:
        text = html.unescape(text)
    text = _NO_LONGER.sub("not longer", text)
    if "pologi" in text or "orry" in text:
        text = _APOLOGY.sub(" ", text)
    if "ike" in text or "IKE" in text:
        text = _PREPOSITION_LIKE.sub(lambda m: m.group(1) + _WORD_JOINER + m.group(2), text)
    return _NAME.sub(_mask, text)


def add_valence(compound: float, valence: float) -> float:
    """Add `valence` (lexicon units) to the sum behind a VADER compound and re-normalise."""
    if not valence:
        return compound
    c = max(-_MAX_COMPOUND, min(_MAX_COMPOUND, compound))
    total = c * math.sqrt(_ALPHA / (1.0 - c * c)) + valence
    return total / math.sqrt(total * total + _ALPHA)


class EnglishEvidence:
    """VADER's compound polarity (-1..1) for a post."""

    def __init__(self) -> None:
        self._vader = SentimentIntensityAnalyzer()
        for word, valence, _kind in resources.own_entries("en_lexicon.tsv"):
            self._vader.lexicon[word.lower()] = valence
        # Each phrase runs only on posts that contain one of its trigger literals: a dozen `in` tests
        # cost far less than running every regex over every post.
        self._phrases: list[tuple[tuple[str, ...], re.Pattern[str], float]] = []
        for pattern, valence, triggers in resources.own_entries("en_phrases.tsv"):
            words = tuple(t.strip().lower() for t in triggers.split(",") if t.strip())
            if not words:
                raise ValueError(f"en_phrases.tsv: no trigger literal for {pattern!r}")
            self._phrases.append((words, re.compile(pattern, re.IGNORECASE), valence))

    def phrase_valence(self, text: str) -> float:
        """Sum of the valences of the complaint phrases found in a (preprocessed) post."""
        text = text.replace("\u2019", "'")  # "can’t" is "can't" for the patterns
        lower = text.lower()
        total = 0.0
        for words, pattern, valence in self._phrases:
            if any(w in lower for w in words):
                total += valence * len(pattern.findall(text))
        return total

    def compound(self, text: str) -> float:
        if not text.strip():
            return 0.0
        clean = preprocess(text)
        compound = float(self._vader.polarity_scores(clean)["compound"])
        return add_valence(compound, self.phrase_valence(clean))
