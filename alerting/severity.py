"""Severity levels, ordered, with their Japanese and English labels."""

from __future__ import annotations

SEVERITY_ORDER: dict[str, int] = {"attention": 1, "warning": 2, "flame": 3}
SEVERITY_LABELS: dict[str, dict[str, str]] = {
    "attention": {"ja": "注意", "en": "Attention"},
    "warning": {"ja": "警戒", "en": "Warning"},
    "flame": {"ja": "炎上", "en": "Flame-up"},
}


def rank(severity: str) -> int:
    return SEVERITY_ORDER.get(severity, 0)


def label(severity: str, locale: str = "ja") -> str:
    return SEVERITY_LABELS.get(severity, {}).get(locale, severity)
