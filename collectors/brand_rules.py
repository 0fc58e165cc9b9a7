"""Compile the stored brands into a keyword matcher, recompiling only when brands change."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collectors.matching import BrandMatcher, BrandRule
from storage.brands import Brand

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CompiledBrands:
    matcher: BrandMatcher
    bucket_minutes: dict[int, int]


class BrandRuleCache:
    """Holds the compiled matcher; the fingerprint (count, last update) tells when to rebuild it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fingerprint: tuple[object, ...] | None = None
        self._compiled: CompiledBrands | None = None

    def get(self, session: Session) -> CompiledBrands:
        fingerprint = tuple(session.execute(select(func.count(Brand.id), func.max(Brand.updated_at))).one())
        with self._lock:
            if self._compiled is None or fingerprint != self._fingerprint:
                brands = session.scalars(select(Brand)).all()
                rules = []
                for brand in brands:
                    rule = BrandRule(**brand.as_rule_fields())
                    problems = rule.validate()
                    if problems:  # one bad stored brand must not stop matching for all the others
                        log.error("brand %s not matched: %s", brand.id, "; ".join(problems))
                        continue
                    rules.append(rule)
                self._compiled = CompiledBrands(BrandMatcher(rules), {b.id: b.bucket_minutes for b in brands})
                self._fingerprint = fingerprint
            return self._compiled
