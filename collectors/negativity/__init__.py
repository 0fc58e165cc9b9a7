"""Negativity scoring for Japanese and English posts.

from collectors.negativity import NegativityScorer, Score, detect_language
scorer = NegativityScorer()
scores = scorer.score_batch(["最悪の対応", "great service"], langs=[None, "en"])
"""

from collectors.negativity.lang import detect_language
from collectors.negativity.scorer import NegativityScorer, Score

__all__ = ["NegativityScorer", "Score", "detect_language"]
