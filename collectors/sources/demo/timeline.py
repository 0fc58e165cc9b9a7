"""The demo day's timeline model: accounts, post rates (JST rhythm, flame-up curve) and text drafts.

The bundled day is Friday 2025-06-13, 00:00–24:00 JST. From 20:12 JST a staff prank video (バイトテロ) at
渋谷道玄坂店 spreads: one viral post, quotes and influencers, ~8x the normal volume within ~45 min, an
official apology at 22:35, then a partial decay. Used by `generate`, which writes the file.

A day may also start at any other minute (`Generator(start=...)`, the live demo's "the 24 h ending now"):
the posting rhythm and the official account's posts then follow the real JST time of day, and the
flame-up keeps its place in the day (20 h 12 min after the start, 3 h 48 min before the end).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from collectors.sources.demo import templates as T

SEED = 20250613
JST = ZoneInfo("Asia/Tokyo")
DAY_START = datetime(2025, 6, 13, tzinfo=JST)
DAY = timedelta(days=1)
INCIDENT_AFTER = timedelta(hours=20, minutes=12)  # the viral post, after the day's start
APOLOGY_AFTER = timedelta(hours=22, minutes=35)
INCIDENT_AT = DAY_START + INCIDENT_AFTER
APOLOGY_AT = DAY_START + APOLOGY_AFTER
PEAK_PER_MINUTE = 18.0  # flame-up posts per minute at the plateau (on top of the normal ~3)
TWITTER_EPOCH_MS = 1288834974657
VIRAL_ID = "<viral-id>"  # placeholder in links to the viral post, replaced once ids exist
# Brand posts per 5 minutes at each JST hour (linearly interpolated in between).
_HOURLY_PER_5MIN: tuple[float, ...] = (6, 4, 2.5, 2, 2, 2.5, 4.5, 8, 10, 8, 9, 13, 17, 14, 11, 13, 13, 11, 12)
_HOURLY_PER_5MIN += (14, 15, 12, 10, 8, 6)  # 19:00 … 24:00


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_SYLLABLES = _words("ka ki ku ko sa shi su se ta chi tsu to na ni no ha hi fu mo ma mi yu yo ra ri ru re wa")
_SYLLABLES += ("n",)
_WORDS_JA = _words("cafe coffee latte neko inu sora umi yoru asa mochi dango ramen tabi hana yuki kumo")
_WORDS_EN = _words("coffee travel tokyo wander nomad latte bean daily studio eats notes life")


@dataclass(frozen=True, slots=True)
class Account:
    handle: str
    followers: int


@dataclass(slots=True)
class Draft:
    at: datetime
    text: str
    account: Account
    lang: str
    topic: str  # brand | incident | noise
    sentiment: str  # positive | neutral | negative
    repost_rate: float  # reposts per follower (before noise)
    reposts: int | None = None


class Generator:
    def __init__(self, seed: int = SEED, start: datetime = DAY_START) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.rng = random.Random(seed)
        self.start = start.astimezone(JST).replace(second=0, microsecond=0)
        self.incident_at = self.start + INCIDENT_AFTER
        self.apology_at = self.start + APOLOGY_AFTER
        self.ja = self._accounts(900, "ja")
        self.en = self._accounts(300, "en")
        self.ja_weights = [1 / (rank + 4) for rank in range(len(self.ja))]
        self.en_weights = [1 / (rank + 4) for rank in range(len(self.en))]
        self.official = Account("noroshi_coffee", 86_400)
        self.viral = Account(T.VIRAL_USER, 624_000)
        self.influencers_ja = [
            Account("matome_watcher", 212_000),
            Account("news_flash_jp", 331_000),
            Account("gourmet_reiko", 84_500),
            Account("foodsafety_jp", 55_200),
            Account("keizai_kisha", 48_100),
        ]
        self.influencers_en = [Account("tokyo_cafe_guide", 141_000), Account("japan_food_news", 97_300)]
        self.cafe_influencers = [Account("cafe_meguri_yuka", 118_000), Account("tokyo_coffee_walk", 45_600)]

    # --- people -------------------------------------------------------------------------------------
    def _accounts(self, n: int, lang: str) -> list[Account]:
        rng, out = self.rng, []
        seen: set[str] = set()
        words = _WORDS_JA if lang == "ja" else _WORDS_EN
        while len(out) < n:
            name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
            handle = rng.choice(
                [f"{name}_{rng.choice(words)}", f"{name}{rng.randint(1, 999)}", f"{rng.choice(words)}_{name}"]
            )
            if handle in seen:
                continue
            seen.add(handle)
            followers = max(3, min(2_000_000, int(rng.lognormvariate(math.log(230), 1.5))))
            out.append(Account(handle, followers))
        return out

    def person(self, lang: str) -> Account:
        pool, weights = (self.ja, self.ja_weights) if lang == "ja" else (self.en, self.en_weights)
        return self.rng.choices(pool, weights)[0]

    # --- text -----------------------------------------------------------------------------------------
    def fill(self, template: str, lang: str) -> str:
        rng = self.rng
        brand = rng.choices(["ノロシ珈琲", "のろし珈琲", "#ノロシ珈琲 "], [0.78, 0.12, 0.10])[0]
        slots = {
            "brand": brand,
            "brand_en": rng.choices(["Noroshi Coffee", "@noroshi_coffee"], [0.85, 0.15])[0],
            "shop": rng.choice(T.SHOPS),
            "item": rng.choice(T.ITEMS),
            "item_en": rng.choice(T.ITEMS_EN),
            "emo": rng.choice(T.EMO),
            "kao": rng.choice(T.KAO),
            "who": rng.choice(T.WHO),
            "city_en": rng.choice(T.CITIES_EN),
            "mins": str(rng.choice([5, 8, 10, 12, 15, 20, 25, 30, 40])),
            "price": str(rng.choice([480, 520, 560, 590, 620, 680, 720])),
            "quote": T.VIRAL_SHORT,
            "vuser": T.VIRAL_USER,
        }
        text = template.format_map(slots).replace("  ", " ").strip()
        if lang == "ja" and rng.random() < 0.05 and not text.startswith("@"):
            text = "@noroshi_coffee " + text
        elif lang == "ja" and rng.random() < 0.08 and "#ノロシ珈琲" not in text:
            text += " #ノロシ珈琲"
        if rng.random() < 0.06:
            text += f" https://pic.x.example/{self._token(10)}"
        return text

    def _token(self, n: int) -> str:
        return "".join(
            self.rng.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(n)
        )

    def daypart(self, at: datetime) -> str | None:
        hour = at.astimezone(JST).hour
        if 6 <= hour < 11:
            return "morning"
        if 11 <= hour < 14:
            return "lunch"
        if 14 <= hour < 18:
            return "afternoon"
        return "evening" if hour >= 18 else None

    # --- the kinds of post ----------------------------------------------------------------------------
    def baseline(self, at: datetime) -> Draft:
        rng = self.rng
        lang = "ja" if rng.random() < 0.74 else "en"
        sentiment = rng.choices(["positive", "neutral", "negative"], [0.50, 0.37, 0.13])[0]
        if lang == "ja":
            pools = {"positive": T.JA_POSITIVE, "neutral": T.JA_NEUTRAL, "negative": T.JA_NEGATIVE}
            pool: Sequence[str] = pools[sentiment]
            part = self.daypart(at)
            if sentiment != "negative" and part and rng.random() < 0.3:
                pool, sentiment = T.JA_DAYPART[part], "positive" if sentiment == "positive" else "neutral"
        else:
            pool = {"positive": T.EN_POSITIVE, "neutral": T.EN_NEUTRAL, "negative": T.EN_NEGATIVE}[sentiment]
        rate = 0.0015 if sentiment == "positive" else 0.0008
        return Draft(at, self.fill(rng.choice(pool), lang), self.person(lang), lang, "brand", sentiment, rate)

    def noise(self, at: datetime) -> Draft:
        lang = "ja" if self.rng.random() < 0.8 else "en"
        pool = T.NOISE_JA if lang == "ja" else T.NOISE_EN
        text = self.rng.choice(pool).format(emo=self.rng.choice(T.EMO)).strip() + self.rng.choice(
            T.TAILS_NOISE
        )
        return Draft(at, text, self.person(lang), lang, "noise", "neutral", 0.001)

    def incident(self, at: datetime) -> Draft:
        rng = self.rng
        lang = "ja" if rng.random() < 0.78 else "en"
        after_apology = at >= self.apology_at + timedelta(minutes=2)
        kind = rng.choices(
            ["apology", "quote", "post"], [0.30, 0.25, 0.45] if after_apology else [0, 0.35, 0.65]
        )[0]
        if kind == "apology":
            negative = rng.random() < 0.55
            if lang == "ja":
                pool = T.APOLOGY_REACT_JA_NEG if negative else T.APOLOGY_REACT_JA_NEU
            else:
                pool = T.APOLOGY_REACT_EN_NEG if negative else T.APOLOGY_REACT_EN_NEU
            sentiment = "negative" if negative else "neutral"
        elif kind == "quote":
            negative = rng.random() < 0.88
            if lang == "ja":
                comment = rng.choice(T.QUOTE_JA if negative else T.QUOTE_JA_NEU)
                if rng.random() < 0.4:
                    comment += rng.choice(["", "、", " ", "。"]) + rng.choice(T.QUOTE_JA)
            else:
                comment = rng.choice(T.QUOTE_EN if negative else T.QUOTE_EN_NEU) + rng.choice(
                    T.TAILS_ANGRY_EN
                )
            formats = T.QUOTE_FORMATS_JA if lang == "ja" else T.QUOTE_FORMATS_EN
            template = rng.choice(formats).replace("{c}", comment)
            sentiment = "negative" if negative else "neutral"
            return Draft(at, self.fill(template, lang), self.person(lang), lang, "incident", sentiment, 0.002)
        else:
            sentiment = rng.choices(["negative", "neutral", "positive"], [0.68, 0.25, 0.07])[0]
            if lang == "ja":
                pool = {"negative": T.INCIDENT_JA_NEG, "neutral": T.INCIDENT_JA_NEU}.get(
                    sentiment, T.INCIDENT_JA_DEFEND
                )
            else:
                sentiment = "neutral" if sentiment == "positive" else sentiment
                pool = T.INCIDENT_EN_NEG if sentiment == "negative" else T.INCIDENT_EN_NEU
        text = self.fill(rng.choice(pool), lang)
        if sentiment == "negative":
            text += rng.choice(T.TAILS_ANGRY_JA if lang == "ja" else T.TAILS_ANGRY_EN)
        if rng.random() < 0.08:
            text += f" https://x.example/{T.VIRAL_USER}/status/{VIRAL_ID}/video/1"
        rate = 0.004 if sentiment == "negative" else 0.0015
        return Draft(at, text, self.person(lang), lang, "incident", sentiment, rate)

    # --- timeline ---------------------------------------------------------------------------------------
    def poisson(self, lam: float) -> int:
        if lam <= 0:
            return 0
        limit, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    def drafts(self) -> list[Draft]:
        out: list[Draft] = []
        first = self.start.hour * 60 + self.start.minute  # JST minute of the day the timeline starts at
        for minute in range(24 * 60):
            start = self.start + timedelta(minutes=minute)
            hour = ((first + minute) % (24 * 60) + 0.5) / 60  # JST hour of the day, as a fraction
            lo = int(hour)
            per5 = _HOURLY_PER_5MIN[lo] + (_HOURLY_PER_5MIN[lo + 1] - _HOURLY_PER_5MIN[lo]) * (hour - lo)
            kinds = [(self.baseline, per5 / 5), (self.noise, 0.2 + 0.1 * (7 <= hour < 23))]
            kinds.append((self.incident, incident_rate((start - self.incident_at).total_seconds() / 60)))
            for make, lam in kinds:
                for _ in range(self.poisson(lam)):
                    out.append(make(start + timedelta(seconds=self.rng.randrange(60))))
        out.extend(self.scripted())
        for draft in out:
            if draft.reposts is None:
                scale = draft.account.followers * draft.repost_rate * self.rng.lognormvariate(0, 1.1)
                draft.reposts = int(scale)
        out.sort(key=lambda d: (d.at, d.account.handle, d.text))
        return out

    def at_jst(self, hours: int, minutes: int, seconds: int = 0) -> datetime:
        """The moment the JST clock shows hours:minutes:seconds within this day."""
        midnight = self.start.replace(hour=0, minute=0)
        when = midnight + timedelta(hours=hours, minutes=minutes, seconds=seconds)
        return when if when >= self.start else when + DAY

    def scripted(self) -> list[Draft]:
        """The official account's day, the cafe influencers, and the flame-up's key posts."""
        rng = self.rng
        out = []
        for (h, m), template in zip([(7, 0), (11, 30), (15, 0), (19, 0)], T.OFFICIAL, strict=False):
            text = self.fill(template, "official")
            out.append(Draft(self.at_jst(h, m), text, self.official, "ja", "brand", "neutral", 0.002))
        out.append(
            Draft(
                self.at_jst(15, 10, 14),
                self.fill(T.JA_POSITIVE[0], "ja"),
                self.cafe_influencers[0],
                "ja",
                "brand",
                "positive",
                0.004,
            )
        )
        out.append(
            Draft(
                self.at_jst(9, 41, 3),
                self.fill(T.EN_POSITIVE[8], "en"),
                self.cafe_influencers[1],
                "en",
                "brand",
                "positive",
                0.004,
            )
        )
        for i, template in enumerate(T.PRECURSOR):
            when = self.incident_at - timedelta(minutes=14 - 6 * i, seconds=rng.randrange(60))
            out.append(
                Draft(when, self.fill(template, "ja"), self.person("ja"), "ja", "incident", "negative", 0.01)
            )
        out.append(
            Draft(self.incident_at, T.VIRAL, self.viral, "ja", "incident", "negative", 0, reposts=18_412)
        )
        for i, account in enumerate(self.influencers_ja + self.influencers_en):
            when = self.incident_at + timedelta(minutes=11 + 7 * i, seconds=rng.randrange(60))
            lang = "ja" if account in self.influencers_ja else "en"
            pool = T.INCIDENT_JA_NEG if lang == "ja" else T.INCIDENT_EN_NEG
            text = self.fill(rng.choice(pool), lang)
            out.append(Draft(when, text, account, lang, "incident", "negative", 0.006))
        out.append(
            Draft(self.apology_at, T.APOLOGY, self.official, "ja", "incident", "neutral", 0, reposts=2_310)
        )
        return out


def incident_rate(minutes: float) -> float:
    """Extra posts per minute `minutes` after the viral post: slow build, surge, plateau, decay."""
    if minutes < 0:
        return 0.0
    if minutes < 12:
        rate = 0.5 + 0.25 * minutes
    elif minutes < 45:
        rate = 3.5 * (PEAK_PER_MINUTE / 3.5) ** ((minutes - 12) / 33)
    elif minutes < 80:
        rate = PEAK_PER_MINUTE
    else:
        rate = 2.0 + (PEAK_PER_MINUTE - 2.0) * 0.5 ** ((minutes - 80) / 45)
    apology_minutes = minutes - (APOLOGY_AFTER - INCIDENT_AFTER).total_seconds() / 60
    if apology_minutes >= 0:
        rate += 5.0 * math.exp(-apology_minutes / 20)
    return rate
