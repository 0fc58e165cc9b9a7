"""Fetch a brand or an incident by id for a key: 404 when it does not exist, then 403 when the key may
not see its brand (the order that keeps 404 and 403 honest for brand-limited keys)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.auth import Principal, ensure_brand_access
from api.problems import ApiProblem
from storage.brands import Brand
from storage.incidents import Incident


def visible_brand(session: Session, brand_id: int, principal: Principal) -> Brand:
    brand = session.get(Brand, brand_id)
    if brand is None:
        raise ApiProblem(404, "not_found", f"no brand with id {brand_id}")
    ensure_brand_access(principal, brand_id)
    return brand


def visible_incident(session: Session, incident_id: int, principal: Principal) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise ApiProblem(404, "not_found", f"no incident with id {incident_id}")
    ensure_brand_access(principal, incident.brand_id)
    return incident
