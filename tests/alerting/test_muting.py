"""Silences, campaign windows and inhibition: pure matching, then through planning and the sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from alerting.actions import IncidentActions
from alerting.escalation import EscalationSweep
from alerting.muting import INHIBIT_RULES, campaign_matches, inhibits, mute_reason, silence_matches
from alerting.notify import Notifier, NotifyConfig
from alerting.notify_policy import RouteView
from storage.incidents import Incident, IncidentEvent
from storage.muting import CampaignWindow, Silence
from storage.notifications import Notification
from tests.alerting.delivery_kit import add_brand, add_incident, simple_context

T0 = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


@dataclass
class Inc:
    id: int = 1
    brand_id: int = 1
    kind: str = "volume"
    severity: str = "warning"
    status: str = "triggered"
    started_at: datetime = T0


def silence(**kw) -> Silence:  # type: ignore[no-untyped-def]
    fields = dict(id=5, brand_id=None, kind=None, max_severity=None, starts_at=T0 - H, ends_at=T0 + H)
    return Silence(**{**fields, **kw}, created_by="aiko", reason="メンテナンス", created_at=T0)


def window(**kw) -> CampaignWindow:  # type: ignore[no-untyped-def]
    fields = dict(id=9, brand_id=1, starts_at=T0 - H, ends_at=T0 + H)
    return CampaignWindow(**{**fields, **kw}, name="新商品発売", created_by="ken", created_at=T0)


@pytest.mark.parametrize(
    ("kw", "incident", "at", "matches"),
    [
        ({}, Inc(), T0, True),
        ({}, Inc(), T0 + H, False),  # the end is exclusive
        ({}, Inc(), T0 - H, True),
        ({"brand_id": 1}, Inc(), T0, True),
        ({"brand_id": 2}, Inc(), T0, False),
        ({"kind": "volume"}, Inc(), T0, True),
        ({"kind": "negativity"}, Inc(), T0, False),
        ({"max_severity": "warning"}, Inc(severity="warning"), T0, True),
        ({"max_severity": "warning"}, Inc(severity="flame"), T0, False),  # still page a real flame-up
        ({"max_severity": "attention"}, Inc(severity="warning"), T0, False),
    ],
)
def test_silence_matchers(kw, incident, at, matches) -> None:  # type: ignore[no-untyped-def]
    assert silence_matches(silence(**kw), incident, at) is matches


def test_campaign_window_matches_now_or_an_incident_that_started_inside() -> None:
    assert campaign_matches(window(), Inc(), T0)
    assert not campaign_matches(window(brand_id=2), Inc(), T0)
    late = Inc(started_at=T0 + 2 * H)
    assert not campaign_matches(window(), late, T0 + 2 * H)
    assert campaign_matches(window(), Inc(started_at=T0), T0 + 5 * H)  # it is in the summary instead


def test_inhibition_rule() -> None:
    (rule,) = INHIBIT_RULES
    flame = Inc(id=2, kind="negativity", severity="flame")
    assert inhibits(rule, flame, Inc())
    assert not inhibits(rule, Inc(id=2, kind="negativity", severity="warning"), Inc())
    assert not inhibits(rule, Inc(id=2, kind="negativity", severity="flame", status="resolved"), Inc())
    assert not inhibits(rule, Inc(id=2, kind="negativity", severity="flame", brand_id=3), Inc())
    assert not inhibits(rule, Inc(id=1, kind="volume", severity="flame"), flame)  # not the other way round


def test_mute_reason_order_silence_campaign_inhibition() -> None:
    flame = Inc(id=2, kind="negativity", severity="flame")
    assert mute_reason(Inc(), [silence()], [window()], [flame], T0) == "silence:5"
    assert mute_reason(Inc(), [], [window()], [flame], T0) == "campaign:9"
    assert mute_reason(Inc(), [], [], [flame, Inc()], T0) == "inhibited_by:2"
    assert mute_reason(Inc(), [silence(kind="negativity")], [], [], T0) is None


# -- through planning -------------------------------------------------------------------------------


def _notifier() -> Notifier:
    return Notifier(
        simple_context, NotifyConfig("http://noroshi.test", (RouteView("slack", "C1", reminder_minutes=60),))
    )


def _events(factory, incident_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as session:
        return list(
            session.scalars(
                select(Notification.event)
                .where(Notification.incident_id == incident_id)
                .order_by(Notification.id)
            )
        )


def _plan(factory, incident_id: int, at: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    with factory() as session, session.begin():
        return _notifier().plan(session, session.get(Incident, incident_id), at)


def test_a_silenced_incident_is_recorded_not_paged_and_pages_when_the_silence_ends(factory, now) -> None:
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        session.add(
            Silence(
                brand_id=brand,
                kind=None,
                max_severity="warning",
                starts_at=now - H,
                ends_at=now + H,
                created_by="aiko",
                reason="キャンペーン告知のテスト配信",
                created_at=now,
            )
        )
        incident = add_incident(session, brand, now, severity="warning").id
    assert _plan(factory, incident, now) == []
    with factory() as session:
        row = session.get(Incident, incident)
        assert row.muted_by is not None and row.muted_by.startswith("silence:")
        muted = session.scalars(select(IncidentEvent).where(IncidentEvent.event == "muted")).one()
        assert muted.detail == {"by": row.muted_by}
    sweep = EscalationSweep(factory, IncidentActions(_notifier()))
    assert sweep.run(now + 59 * M).enqueued == []
    assert len(sweep.run(now + H).enqueued) == 1
    assert _events(factory, incident) == ["triggered"]
    with factory() as session:
        assert session.get(Incident, incident).muted_by is None


def test_a_silence_does_not_hold_back_a_more_severe_incident(factory, now) -> None:
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        session.add(
            Silence(
                brand_id=brand,
                max_severity="warning",
                starts_at=now - H,
                ends_at=now + H,
                created_by="aiko",
                reason="r",
                created_at=now,
            )
        )
        incident = add_incident(session, brand, now, severity="flame").id
    assert len(_plan(factory, incident, now)) == 1


def test_critical_negativity_inhibits_the_volume_incident_whose_resolve_is_still_announced(
    factory, now
) -> None:
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        volume = add_incident(session, brand, now, kind="volume", severity="warning").id
    _plan(factory, volume, now)  # paged before the negativity incident existed
    with factory() as session, session.begin():
        negativity = add_incident(session, brand, now + 10 * M, kind="negativity", severity="flame").id
    _plan(factory, negativity, now + 10 * M)
    sweep = EscalationSweep(factory, IncidentActions(_notifier()))
    sweep.run(now + 11 * M)
    with factory() as session, session.begin():
        assert session.get(Incident, volume).muted_by == f"inhibited_by:{negativity}"
        assert session.get(Incident, negativity).muted_by is None
        session.get(Incident, volume).severity = "flame"  # it grows, but the negativity card says it all
    sweep.run(now + 12 * M)
    with factory() as session, session.begin():
        IncidentActions(_notifier()).acknowledge(session, volume, "a", now + 13 * M)
    sweep.run(now + 3 * H)  # no reminders either
    assert _events(factory, volume) == ["triggered", "acknowledged"]
    with factory() as session, session.begin():
        IncidentActions(_notifier()).resolve(session, volume, "a", now + 4 * H)
    assert _events(factory, volume) == ["triggered", "acknowledged", "resolved"]
    assert _events(factory, negativity) == ["triggered"]


def test_a_campaign_window_records_and_summarises_once_at_its_end(factory, now) -> None:
    with factory() as session, session.begin():
        brand = add_brand(session, now).id
        session.add(
            CampaignWindow(
                brand_id=brand,
                name="冬の新作発売",
                starts_at=now - H,
                ends_at=now + 2 * H,
                created_by="ken",
                note="発売日の急増は想定内",
                created_at=now,
            )
        )
        quiet = add_brand(session, now, "quiet").id
        session.add(
            CampaignWindow(
                brand_id=quiet,
                name="nothing happened",
                starts_at=now - H,
                ends_at=now + H,
                created_by="ken",
                created_at=now,
            )
        )
        volume = add_incident(session, brand, now, kind="volume", severity="warning").id
        negativity = add_incident(session, brand, now + H, kind="negativity", severity="flame").id
    assert _plan(factory, volume, now) == [] and _plan(factory, negativity, now + H) == []
    sweep = EscalationSweep(factory, IncidentActions(_notifier()))
    assert sweep.run(now + 2 * H - M).summaries == []
    report = sweep.run(now + 2 * H)
    assert len(report.summaries) == 1 and report.enqueued == []  # started inside: still not paged
    assert sweep.run(now + 3 * H).summaries == []
    with factory() as session:
        (summary,) = session.scalars(
            select(Notification).where(Notification.event == "campaign_summary")
        ).all()
        assert summary.incident_id == negativity  # attached to the worst one
        campaign = summary.payload["campaign"]
        assert campaign["name"] == "冬の新作発売"
        assert [i["id"] for i in campaign["incidents"]] == [volume, negativity]
        windows = session.scalars(select(CampaignWindow).order_by(CampaignWindow.id)).all()
        assert [w.summarized_at for w in windows] == [now + 2 * H, now + 2 * H - M]  # the quiet one: no rows
