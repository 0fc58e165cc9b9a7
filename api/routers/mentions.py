"""/api/v1/mentions: push posts in (batch, idempotent, per-item errors) and search stored mentions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Exists

from api.auth import Principal, ensure_brand_access, require
from api.context import ApiContext, get_context, get_session
from api.pagination import decode_cursor, encode_cursor
from api.problems import ApiProblem
from api.schemas import MentionBatchIn, MentionBatchOut, MentionIn, MentionItemResult, MentionOut, Page
from collectors.posts import RawPost
from storage.mentions import Mention, MentionBrand
from storage.sources import Source

router = APIRouter(prefix="/api/v1/mentions", tags=["mentions"])
_ITEM = TypeAdapter(MentionIn)


def _validate_items(raw: list[dict[str, Any]]) -> tuple[list[tuple[int, MentionIn]], list[MentionItemResult]]:
    valid, rejected = [], []
    for index, item in enumerate(raw):
        try:
            valid.append((index, _ITEM.validate_python(item)))
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in e["loc"]) or "item", "message": e["msg"]}
                for e in exc.errors()
            ]
            ident = item.get("id") if isinstance(item, dict) else None
            rejected.append(
                MentionItemResult(
                    index=index,
                    id=str(ident) if ident is not None else None,
                    status="rejected",
                    errors=errors,
                )
            )
    return valid, rejected


def _push_source(session: Session, name: str, now: datetime) -> Source:
    source = session.scalars(select(Source).where(Source.name == name)).first()
    if source is None:
        if name != "push":
            raise ApiProblem(404, "unknown_source", f"no source named {name!r}; create it with kind 'push'")
        source = Source(name="push", kind="push", settings={}, interval_seconds=3600, created_at=now)
        session.add(source)
        session.flush()
    if source.kind != "push":
        raise ApiProblem(422, "not_a_push_source", f"source {name!r} is of kind {source.kind!r}, not 'push'")
    return source


@router.post("", response_model=MentionBatchOut, responses={422: {"description": "the envelope is invalid"}})
def push_mentions(
    body: MentionBatchIn,
    context: ApiContext = Depends(get_context),
    principal: Principal = Depends(require("ingest")),
) -> MentionBatchOut:
    """Store a batch of posts. Valid items are stored even when others are rejected; each item's fate is
    reported in `results` (stored, duplicate, unmatched — no brand's keywords — or rejected with errors).
    Needs a key not limited to brands (else 403 `brand_forbidden`): a post is matched against every
    brand's keywords, so pushing affects brands outside the key's set."""
    ensure_brand_access(principal, None)
    valid, rejected = _validate_items(body.mentions)
    now = context.clock()
    with context.factory() as session, session.begin():
        source = _push_source(session, body.source, now)
        posts = [
            RawPost(
                external_id=m.id,
                posted_at=m.posted_at,
                text=m.text,
                author=m.author,
                author_followers=m.followers,
                reposts=m.reposts,
                url=m.url,
                lang=m.lang,
            )
            for _, m in valid
        ]
        report = context.ingestor.ingest(session, source.id, posts, now)
        source.last_run_at = source.last_success_at = now
        source_id = source.id
    results = rejected + [
        MentionItemResult(index=index, id=m.id, status=status, brand_ids=brands)
        for (index, m), status, brands in zip(valid, report.statuses, report.brands, strict=True)
    ]
    results.sort(key=lambda r: r.index)
    return MentionBatchOut(
        source_id=source_id,
        stored=report.stored,
        duplicates=report.duplicates,
        unmatched=report.unmatched,
        rejected=len(rejected),
        results=results,
    )


@router.get("", response_model=Page[MentionOut])
def search_mentions(
    brand_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    negative: bool | None = None,
    q: str | None = Query(None, max_length=200, description="text contains"),
    limit: int = Query(50, ge=1, le=100),
    cursor: str | None = None,
    session: Session = Depends(get_session),
    principal: Principal = Depends(require("read")),
) -> Page[MentionOut]:
    """Newest first; pass `next_cursor` back as `cursor` for the next page. A brand-limited key sees the
    mentions matched to at least one of its brands."""
    query = select(Mention)
    if principal.brand_ids is not None:
        query = query.where(_matched_to(principal.brand_ids))
    if brand_id is not None:
        ensure_brand_access(principal, brand_id)
        query = query.join(MentionBrand, MentionBrand.mention_id == Mention.id).where(
            MentionBrand.brand_id == brand_id
        )
    if since is not None:
        query = query.where(Mention.posted_at >= since)
    if until is not None:
        query = query.where(Mention.posted_at < until)
    if negative is not None:
        query = query.where(Mention.negative.is_(negative))
    if q:
        query = query.where(Mention.text.contains(q, autoescape=True))
    after = decode_cursor(cursor)
    if after is not None:
        try:
            last_at, last_id = datetime.fromisoformat(after[0]), int(after[1])
        except (IndexError, TypeError, ValueError):
            raise ApiProblem(400, "invalid_cursor", "the cursor is not one this API returned") from None
        query = query.where(
            (Mention.posted_at < last_at) | ((Mention.posted_at == last_at) & (Mention.id < last_id))
        )
    rows = list(session.scalars(query.order_by(Mention.posted_at.desc(), Mention.id.desc()).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor([rows[-1].posted_at.isoformat(), rows[-1].id])
    return Page[MentionOut](items=[MentionOut.model_validate(r) for r in rows], next_cursor=next_cursor)


def _matched_to(brand_ids: frozenset[int]) -> Exists:
    """The mention is matched to one of these brands (EXISTS, so a mention of two brands appears once)."""
    return exists().where(MentionBrand.mention_id == Mention.id, MentionBrand.brand_id.in_(sorted(brand_ids)))
