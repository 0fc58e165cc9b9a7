"""The e-mail for one incident notification: a Japanese/English MIME message built from the context.

Structure (what mail clients render best):

    multipart/mixed
      multipart/alternative
        text/plain                      (UTF-8)
        multipart/related
          text/html                     (UTF-8, <img src="cid:…">)
          image/png                     (the chart, Content-ID)
      text/markdown   runbook-<id>.<locale>.md    (attachment)
      text/html       runbook-<id>.<locale>.html  (attachment)

Headers with Japanese are RFC 2047 encoded by the email package. Follow-up mails (ack, resolve…)
carry In-Reply-To/References pointing at the first mail so clients thread them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import escape

from alerting.channels.base import OutgoingNotification
from alerting.facts import safe_url
from alerting.presentation import STATUS_LABELS, percent

HERE = Path(__file__).resolve().parent
CHART_CID_NAME = "chart"
COLOURS = {"attention": "#f9a825", "warning": "#ef6c00", "flame": "#c62828"}

# (ja, en) of why this mail is sent, shown at the top and in follow-up subjects.
EVENT_LINES: dict[str, tuple[str, str]] = {
    "triggered": ("新しいインシデント", "New incident"),
    "escalated": ("重大度が上がりました／未確認のままです", "Escalated"),
    "flared_again": ("再燃しました（収まっていた投稿が再び急増）", "Flared again: a new wave after a lull"),
    "reminder": ("未解決のインシデント（リマインダー）", "Reminder: still unresolved"),
    "acknowledged": ("対応が始まりました", "Acknowledged"),
    "snoozed": ("保留されました", "Snoozed"),
    "resolved": ("解決しました", "Resolved"),
    "commented": ("コメントが追加されました", "Comment added"),
    "campaign_summary": (
        "キャンペーン期間のまとめ（通知は抑制されていました）",
        "Campaign window summary (paging was muted)",
    ),
}
# What rose, for the subject: (ja with a ratio, en with a ratio, ja without, en without).
SUBJECT_PHRASES: dict[str, tuple[str, str, str, str]] = {
    "volume": ("言及が通常の{r}倍", "mentions {r}× usual", "言及が急増", "mentions surging"),
    "negativity": (
        "否定的な投稿が通常の{r}倍",
        "negative posts {r}× usual",
        "否定的な投稿が急増",
        "negative posts rising",
    ),
}


def mail_templates(folder: Path) -> Environment:
    """Jinja for a mail's `<stem>.txt` and `<stem>.html` in `folder` (only the HTML is escaped)."""
    return Environment(
        loader=FileSystemLoader(folder),
        undefined=StrictUndefined,
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def set_bodies(message: EmailMessage, env: Environment, stem: str, values: Mapping[str, Any]) -> None:
    """The plain-text body and its HTML alternative, both base64 UTF-8 (Japanese survives any relay)."""
    message.set_content(env.get_template(f"{stem}.txt").render(values), charset="utf-8", cte="base64")
    message.add_alternative(
        env.get_template(f"{stem}.html").render(values), subtype="html", charset="utf-8", cte="base64"
    )


_env = mail_templates(HERE)


class EmailAddressError(ValueError):
    """A target or sender that is not an e-mail address (permanent: retrying cannot fix it)."""


@dataclass(frozen=True, slots=True)
class Built:
    message: EmailMessage
    recipients: list[str]
    message_id: str


def _ratio(incident: Mapping[str, Any]) -> str | None:
    ratio = incident.get("ratio")
    if ratio is None:
        return None
    text = f"{ratio:.0f}" if ratio >= 10 else f"{ratio:.1f}"
    return text[:-2] if text.endswith(".0") else text


def root_subject(context: Mapping[str, Any]) -> str:
    """'【炎上】ノロシ珈琲: 言及が通常の8倍 / Flame-up: ノロシ珈琲 mentions 8× usual'."""
    incident, brand = context["incident"], context["brand"]["name"]
    ja_r, en_r, ja, en = SUBJECT_PHRASES.get(incident["kind"], SUBJECT_PHRASES["volume"])
    ratio = _ratio(incident)
    if ratio is not None:
        ja, en = ja_r.format(r=ratio), en_r.format(r=ratio)
    labels = incident["severity_label"]
    return f"【{labels['ja']}】{brand}: {ja} / {labels['en']}: {brand} {en}"


def message_id_for(idempotency_key: str, domain: str) -> str:
    """Stable per notification: a retry after a crash re-sends the same Message-ID (receivers dedupe)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<noroshi.{digest}@{domain}>"


def parse_recipients(target: str) -> list[str]:
    addresses = [addr for _, addr in getaddresses([target]) if addr]
    if not addresses or any("@" not in addr for addr in addresses):
        raise EmailAddressError(f"target {target!r} is not a list of e-mail addresses")
    return addresses


def _values(note: OutgoingNotification, subject: str) -> dict[str, Any]:
    context = note.context
    incident = context["incident"]
    ja, en = EVENT_LINES.get(note.event, (note.event, note.event))
    runbook = context.get("runbook") or {}
    posts = [{**post, "url": safe_url(post.get("url"))} for post in context.get("top_posts", [])]
    return {
        "subject": subject,
        "event_line": f"{ja} / {en}",
        "colour": COLOURS.get(incident["severity"], "#555"),
        "incident": incident,
        "status": " / ".join(
            STATUS_LABELS.get(incident.get("status", ""), (incident.get("status", ""),) * 2)
        ),
        "brand": context["brand"],
        "headline": context["headline"],
        "observed": round(incident["observed"]),
        "expected": f"{incident['expected']:.1f}",
        "ratio": _ratio(incident),
        "negative_share": percent(incident.get("negative_share")),
        "baseline_share": percent(incident.get("baseline_share")),
        "actor": context.get("actor"),
        "runbook": runbook,
        "first_steps": runbook.get("first_steps", []),
        "drivers": [d["term"] for d in context.get("drivers", [])],
        "posts": posts,
        "timeline": context.get("timeline", []),
        "chart_url": context.get("chart_url", ""),
        "chart_cid": "",
    }


def _runbook_html_document(runbook: Mapping[str, Any]) -> str:
    lang, title = escape(runbook.get("locale", "ja")), escape(runbook.get("title", ""))
    head = f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title></head>'
    return f"{head}<body>\n{runbook.get('html', '')}</body></html>\n"


def build_message(
    note: OutgoingNotification,
    sender: str,
    now: datetime,
    chart: Callable[[Mapping[str, Any]], bytes],
) -> Built:
    """The MIME message for `note`. `note.state` holds the first mail's Message-ID and subject."""
    recipients = parse_recipients(note.target)
    sender_address = parse_recipients(sender)[0]
    domain = sender_address.rsplit("@", 1)[1]
    root_id, subject = note.state.get("message_id"), note.state.get("subject")
    subject = f"Re: {subject}" if root_id and subject else root_subject(note.context)
    message_id = message_id_for(note.idempotency_key, domain)

    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id
    message["X-Noroshi-Incident"] = str(note.incident_id)
    message["X-Noroshi-Event"] = note.event
    if root_id:
        previous = note.state.get("last_message_id") or root_id
        message["In-Reply-To"] = previous
        message["References"] = " ".join(dict.fromkeys([root_id, previous]))

    values = _values(note, subject)
    chart_cid = message_id_for(note.idempotency_key + ":chart", domain)
    values["chart_cid"] = chart_cid[1:-1]
    set_bodies(message, _env, "mail", values)
    html_part = message.get_payload()[1]
    html_part.add_related(
        chart(note.context), maintype="image", subtype="png", cid=chart_cid, filename="chart.png"
    )

    runbook = note.context.get("runbook") or {}
    if runbook.get("markdown"):
        stem = f"runbook-{note.incident_id}.{runbook.get('locale', 'ja')}"
        message.add_attachment(
            runbook["markdown"], subtype="markdown", charset="utf-8", cte="base64", filename=f"{stem}.md"
        )
        message.add_attachment(
            _runbook_html_document(runbook),
            subtype="html",
            charset="utf-8",
            cte="base64",
            filename=f"{stem}.html",
        )
    return Built(message, recipients, message_id)
