"""Runbooks: every shipped kind × severity × locale renders with the incident's facts; overrides win."""

from __future__ import annotations

import pytest

from alerting.runbooks import (
    KINDS,
    LOCALES,
    SEVERITIES,
    TEMPO,
    RunbookTemplateError,
    render_runbook,
    validate_template,
)
from storage.models import Incident, RunbookOverride
from tests.alerting.incident_rows import BRAND, NOW, add_flame

# Words each locale's shipped runbook must contain (the brief's non-negotiables, per language).
MUST_SAY = {
    "ja": [
        "まず最初に",
        "法務",
        "役員",
        "削除",
        "言い争",
        "黙って読んでいる",
        "FAQ",
        "まとめサイト",
        "24時間",
        "振り返り",
    ],
    "en": [
        "First steps",
        "legal",
        "executive",
        "delete",
        "argue",
        "silently",
        "FAQ",
        "matome",
        "24 hours",
        "Review",
    ],
}


@pytest.fixture
def flame_incident(factory):  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        return add_flame(session).incident_id


def test_every_shipped_runbook_renders_with_the_incident(factory, flame_incident) -> None:  # type: ignore[no-untyped-def]
    with factory() as session:
        incident = session.get(Incident, flame_incident)
        for kind in KINDS:
            for severity in SEVERITIES:
                incident.kind, incident.severity = kind, severity
                for locale in LOCALES:
                    case = f"{kind}/{severity}/{locale}"
                    book = render_runbook(session, incident, locale, now=NOW, public_url="https://n.example")
                    assert BRAND in book.title, case
                    assert len(book.first_steps) >= 3, case
                    assert "{{" not in book.markdown and "{%" not in book.markdown, case
                    for word in MUST_SAY[locale]:
                        assert word in book.markdown, f"{case}: {word!r} missing"
                    assert "14:05 JST" in book.markdown, case  # the onset, in the brand's timezone
                    assert "63%" in book.markdown and "13%" in book.markdown, case
                    assert "厨房" in book.markdown, case  # a driver term
                    assert f"{TEMPO[severity]['holding_hours']}" in book.markdown, case
                    assert f"https://n.example/incidents/{flame_incident}" in book.html, case
                    assert book.html.count("<h1>") == 1 and "<ol>" in book.html, case
                    if locale == "en":
                        assert "まず最初に" not in book.markdown, case


def _override(session, brand_id: int, template: str, severity: str | None, locale: str = "ja") -> None:  # type: ignore[no-untyped-def]
    session.add(
        RunbookOverride(
            brand_id=brand_id,
            kind="volume",
            severity=severity,
            locale=locale,
            template=template,
            updated_by="pr-lead",
            updated_at=NOW,
        )
    )


def test_most_specific_override_wins(factory, flame_incident) -> None:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        brand_id = session.get(Incident, flame_incident).brand_id
        _override(session, brand_id, "# 全般 {{ brand }}\n\n1. 一般手順\n", None)
        _override(
            session, brand_id, "# 炎上専用 {{ brand }}\n\n1. 社長に電話 {{ ratio }}倍\n2. 声明\n", "flame"
        )
    with factory() as session:
        incident = session.get(Incident, flame_incident)
        flame = render_runbook(session, incident, "ja", now=NOW)
        assert flame.title == f"炎上専用 {BRAND}"
        assert flame.first_steps == ["社長に電話 8倍", "声明"]
        incident.severity = "warning"  # no warning-specific override: the kind-wide one
        assert render_runbook(session, incident, "ja", now=NOW).title == f"全般 {BRAND}"
        english = render_runbook(session, incident, "en", now=NOW)  # no English override: the default
        assert english.title.startswith("Warning:")


def test_override_content_is_escaped_and_sandboxed(factory, flame_incident) -> None:  # type: ignore[no-untyped-def]
    hostile = "# T\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))\n\n1. {{ top_posts[0].text }}\n"
    with factory() as session, session.begin():
        incident = session.get(Incident, flame_incident)
        _override(session, incident.brand_id, hostile, "flame")
        _override(session, incident.brand_id, "# {{ ''.__class__.__mro__ }}", "flame", locale="en")
    with factory() as session:
        incident = session.get(Incident, flame_incident)
        book = render_runbook(session, incident, "ja", now=NOW)
        assert "<script>" not in book.html and "&lt;script&gt;" in book.html
        assert 'href="javascript:' not in book.html
        # the sandbox refuses the attribute walk, so the shipped English default is used instead
        assert render_runbook(session, incident, "en", now=NOW).title.startswith("Flame-up:")


def test_validate_template_names_the_problem() -> None:
    with pytest.raises(RunbookTemplateError, match="runbook template"):
        validate_template("# {% if %}", {})
    with pytest.raises(RunbookTemplateError, match="undefined"):
        validate_template("# {{ nope }}", {"brand": "x"})
    validate_template(
        "# {{ brand }} {{ tempo.holding_hours }} {{ drivers | join(',') }}"
    )  # the sample has all
