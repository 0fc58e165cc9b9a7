"""Response runbooks: shipped Markdown + Jinja templates per kind × severity × locale, per-brand overrides.

Shipped defaults live next to this file as `<kind>.<severity>.<locale>.md` and extend
`_base.<locale>.md`. A brand's `RunbookOverride` replaces them; the most specific one wins
(kind + severity, then kind alone). Templates run in Jinja's sandbox (overrides are user input) and
every interpolated string is Markdown-escaped, so a post or brand name cannot inject links or HTML.

Variables available to a template (all strings are already in the brand's timezone/locale):
  brand, brand_id, incident_id, kind, kind_label, severity, severity_label, status,
  started_at, last_signal_at, now (local display, e.g. "2024-06-03 14:05 JST"), started_at_utc,
  observed (int), expected (e.g. "2.0"), ratio ("8" or None), bucket_minutes,
  negative_share, baseline_share ("63%" or "—"), headline, drivers (list of terms),
  top_posts (list of {text, author, followers, reposts, url}), incident_url, runbook_url,
  tempo ({check_minutes, holding_hours}: how fast this severity asks people to move).

The first heading is the title; the first numbered list is the "first steps" shown in Slack.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerting.facts import IncidentFacts, gather_facts, safe_url
from alerting.presentation import KIND_LABELS, local_display, percent, ratio_text
from alerting.severity import label
from storage.incidents import Incident
from storage.muting import RunbookOverride

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
LOCALES = ("ja", "en")
KINDS = ("volume", "negativity")
SEVERITIES = ("attention", "warning", "flame")

# How fast each severity asks people to move: re-check interval and the holding-statement deadline.
TEMPO: dict[str, dict[str, int]] = {
    "attention": {"check_minutes": 30, "holding_hours": 4},
    "warning": {"check_minutes": 15, "holding_hours": 3},
    "flame": {"check_minutes": 10, "holding_hours": 2},
}


class RunbookTemplateError(ValueError):
    """A runbook template that does not parse or render (names the problem for the API's 4xx)."""


@dataclass(frozen=True, slots=True)
class RenderedRunbook:
    title: str
    first_steps: list[str]
    markdown: str
    html: str  # an HTML fragment; `html_document` wraps it for an attachment


class MdSafe(str):
    """A string already safe to place in Markdown (skips the escaping finalizer)."""


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|#!])")


def md_escape(value: Any) -> Any:
    if isinstance(value, MdSafe) or not isinstance(value, str):
        return value
    return _MD_SPECIAL.sub(r"\\\1", value.replace("\r", " ").replace("\n", " "))


def md_url(value: str | None) -> MdSafe:
    """An http(s) URL (or a site-relative path) usable as a Markdown link destination; else '#'."""
    relative = value is not None and value.startswith("/") and not value.startswith("//")
    url = value if relative else safe_url(value)
    return MdSafe(quote(url, safe=":/?#&=%+,;@~!$'*.-_") if url else "#")


_env = SandboxedEnvironment(
    loader=FileSystemLoader(HERE),
    undefined=StrictUndefined,
    autoescape=False,  # Markdown, not HTML: escaping is md_escape's job, HTML escaping markdown-it's
    finalize=md_escape,
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["url"] = md_url
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def markdown_to_html(text: str) -> str:
    """CommonMark → HTML with raw HTML disabled (escaped) and javascript:/data: links refused."""
    return _markdown.render(text)


def html_document(runbook: RenderedRunbook, lang: str) -> str:
    from markupsafe import escape

    return (
        f'<!doctype html>\n<html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f"<title>{escape(runbook.title)}</title>"
        "<style>body{font-family:'Hiragino Sans','Noto Sans CJK JP','Yu Gothic',sans-serif;"
        "max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.7;color:#222}"
        "blockquote{border-left:4px solid #c62828;margin:0;padding:.2rem 1rem;background:#fff5f5}"
        "</style></head><body>\n" + runbook.html + "</body></html>\n"
    )


def template_variables(
    incident: Incident, facts: IncidentFacts, locale: str, now: datetime, public_url: str
) -> dict[str, Any]:
    brand, tz = facts.brand, facts.brand.timezone
    index = 0 if locale == "ja" else 1
    base = public_url.rstrip("/")
    return {
        "brand": brand.name,
        "brand_id": brand.id,
        "incident_id": incident.id,
        "kind": incident.kind,
        "kind_label": KIND_LABELS.get(incident.kind, (incident.kind, incident.kind))[index],
        "severity": incident.severity,
        "severity_label": label(incident.severity, locale),
        "status": incident.status,
        "started_at": local_display(incident.started_at, tz),
        "last_signal_at": local_display(incident.last_signal_at, tz),
        "now": local_display(now, tz),
        "started_at_utc": incident.started_at.isoformat(),
        "observed": round(incident.observed),
        "expected": f"{incident.expected:.1f}",
        "ratio": ratio_text(incident.observed, incident.expected),
        "bucket_minutes": brand.bucket_minutes,
        "negative_share": percent(facts.negative_share),
        "baseline_share": percent(facts.baseline_share),
        "headline": facts.headline.ja if locale == "ja" else facts.headline.en,
        "drivers": [term for term, _ in facts.drivers],
        "top_posts": [
            {
                "text": post.text[:200],
                "author": post.author or "—",
                "followers": post.author_followers or 0,
                "reposts": post.reposts or 0,
                "url": md_url(post.url) if safe_url(post.url) else None,
            }
            for post, _reach in facts.top_posts
        ],
        "incident_url": md_url(f"{base}/incidents/{incident.id}"),
        "runbook_url": md_url(f"{base}/incidents/{incident.id}/runbook"),
        "tempo": TEMPO.get(incident.severity, TEMPO["attention"]),
    }


def _override(session: Session, incident: Incident, locale: str) -> RunbookOverride | None:
    """The brand's most specific override for this kind and locale: its severity first, then any."""
    rows = session.scalars(
        select(RunbookOverride).where(
            RunbookOverride.brand_id == incident.brand_id,
            RunbookOverride.kind == incident.kind,
            RunbookOverride.locale == locale,
        )
    ).all()
    specificity = {incident.severity: 0, None: 1}
    matching = [row for row in rows if row.severity in specificity]
    return min(matching, key=lambda row: specificity[row.severity], default=None)


def _structure(markdown: str) -> tuple[str, list[str]]:
    """The title (first heading) and the first steps (the first ordered list) of rendered Markdown."""
    tokens = _markdown.parse(markdown)
    title = next((tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"), "")
    start = next((i for i, t in enumerate(tokens) if t.type == "ordered_list_open"), None)
    steps: list[str] = []
    if start is not None:
        level = tokens[start].level
        for token in tokens[start + 1 :]:
            if token.type == "ordered_list_close" and token.level == level:
                break
            if token.type == "inline" and token.level == level + 3:  # list item › paragraph › inline
                steps.append(_plain(token.content))
    return _plain(title), steps


def _plain(text: str) -> str:
    """Inline Markdown to plain text for Slack/e-mail: drop emphasis marks and backslash escapes."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__|\*|`)", "", text)
    return re.sub(r"\\([\\`*_\[\]<>|#!])", r"\1", text)


def render_source(source: str | None, variables: dict[str, Any], default_name: str) -> str:
    """Render an override's source (or the shipped default when None). Raises RunbookTemplateError."""
    try:
        template = _env.from_string(source) if source is not None else _env.get_template(default_name)
        return template.render(**variables)
    except TemplateError as exc:
        raise RunbookTemplateError(f"runbook template: {exc.message or type(exc).__name__}") from exc


def default_name(kind: str, severity: str, locale: str) -> str:
    kind = kind if kind in KINDS else "volume"
    severity = severity if severity in SEVERITIES else "attention"
    return f"{kind}.{severity}.{locale if locale in LOCALES else 'en'}.md"


def render_runbook(
    session: Session,
    incident: Incident,
    locale: str,
    *,
    now: datetime | None = None,
    public_url: str = "",
    facts: IncidentFacts | None = None,
) -> RenderedRunbook:
    """The runbook for this incident in `locale`, from the brand's override when it has one.

    A broken override (it was validated when saved, but variables can change) falls back to the
    shipped default rather than leaving the responders without a runbook.
    """
    at = now or incident.last_signal_at
    facts = facts or gather_facts(session, incident, at)
    variables = template_variables(incident, facts, locale, at, public_url)
    name = default_name(incident.kind, incident.severity, locale)
    override = _override(session, incident, locale)
    markdown = None
    if override is not None:
        try:
            markdown = render_source(override.template, variables, name)
        except RunbookTemplateError as exc:
            log.warning(
                "runbook override %s for brand %s failed, using the default: %s",
                override.id,
                incident.brand_id,
                exc,
            )
    if markdown is None:
        markdown = render_source(None, variables, name)
    title, steps = _structure(markdown)
    return RenderedRunbook(title=title, first_steps=steps, markdown=markdown, html=markdown_to_html(markdown))


# Realistic values for every documented variable, so an override can be checked before it is saved.
SAMPLE_VARIABLES: dict[str, Any] = {
    "brand": "ノロシ珈琲",
    "brand_id": 1,
    "incident_id": 1,
    "kind": "volume",
    "kind_label": "言及数の急増",
    "severity": "flame",
    "severity_label": "炎上",
    "status": "triggered",
    "started_at": "2024-06-03 14:05 JST",
    "last_signal_at": "2024-06-03 14:50 JST",
    "now": "2024-06-03 15:00 JST",
    "started_at_utc": "2024-06-03T05:05:00+00:00",
    "observed": 240,
    "expected": "30.0",
    "ratio": "8",
    "bucket_minutes": 5,
    "negative_share": "63%",
    "baseline_share": "12%",
    "headline": "ノロシ珈琲の言及が通常の8倍に増加（14:05 JST〜）。",
    "drivers": ["厨房", "動画"],
    "top_posts": [{"text": "…", "author": "a", "followers": 1000, "reposts": 10, "url": None}],
    "incident_url": MdSafe("https://noroshi.example/incidents/1"),
    "runbook_url": MdSafe("https://noroshi.example/incidents/1/runbook"),
    "tempo": TEMPO["flame"],
}


def validate_template(source: str, sample: dict[str, Any] | None = None) -> None:
    """Check an override before it is saved: it must parse and render (with `sample`, by default
    SAMPLE_VARIABLES). Raises RunbookTemplateError naming the problem, for the API's 4xx."""
    render_source(source, SAMPLE_VARIABLES if sample is None else sample, "")
