"""Brand keyword matching that works for Japanese as well as Latin-script posts.

Both keywords and post text go through `normalize_text`, so matching happens in one canonical form:

* Unicode NFKC (full-width ＮＯＲＯＳＨＩ -> noroshi, half-width ﾉﾛｼ -> ノロシ, ＃ -> #, ＠ -> @,
  ideographic space U+3000 -> space), then case folding.
* Katakana is folded to hiragana, so ノロシ and のろし are the same keyword.  The long-vowel mark ー and
  small kana (ァ, ッ, ゃ ...) are deliberately left as they are: ノロシー is not ノロシ, and ツ is not ッ.
* Invisible format characters (zero-width space/joiner, soft hyphen, BOM, bidi marks, variation
  selectors) are removed; any run of whitespace becomes one space.

How a normalised keyword matches:

* Keywords in scripts written without spaces (kanji, kana, hangul, thai ...) match as substrings:
  "ノロシのアプリ最悪" mentions ノロシ.
* A keyword edge that is a Latin-type word character (letter, digit or "_" outside those scripts) needs
  a word boundary there: "au" does not match "because" or "au_pay", but does match "auの通信障害".
* "#tag" keywords match only that hashtag, as a whole tag: "#狼煙" matches "＃狼煙 最高" but not
  "狼煙" or "#狼煙アプリ".  A plain keyword "狼煙" also matches inside "#狼煙".
* "@handle" keywords match only that mention, case-insensitively: not "@noroshi_jp2" or
  "mail@noroshi_jp".  A handle ends at the first character that is not a Latin-type word character,
  so "@noroshi_jpさん" mentions @noroshi_jp.
* Spaces inside a keyword match any run of whitespace; a space next to a kana/kanji character is also
  optional ("狼煙 アプリ" matches "狼煙アプリ"), a space between two Latin words is not.
* A post that contains any exclude term of a rule (same matching rules) does not count for that rule.
* If a rule lists languages and the post's language is known and not among them, the rule is skipped.
  Only the primary subtag is compared ("ja-JP" is "ja"); "und", "zxx", "mul", "mis" and the private-use
  codes qaa-qtz (e.g. Twitter's "qht" for hashtag-only posts) count as unknown.

All keywords and exclude terms of all rules are compiled into one trie-shaped regular expression; a
post is normalised once and scanned once, and only the (rare) candidate hits are checked in Python.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "MAX_KEYWORD_CHARS",
    "MAX_PHRASE_WORDS",
    "BrandMatcher",
    "BrandRule",
    "normalize_text",
    "validate_keywords",
]

MAX_KEYWORD_CHARS = 100
MAX_PHRASE_WORDS = 8

# Scripts written without spaces between words: keywords in them match as substrings, and they count
# as a word boundary next to Latin keywords.  (start, end) inclusive, sorted.
_UNSPACED_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3000, 0x33FF),  # CJK symbols, hiragana, katakana, bopomofo, hangul compat, enclosed, compat
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended-A
    (0xAC00, 0xD7FF),  # Hangul syllables, Jamo extended-B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF65, 0xFFDC),  # half-width katakana / hangul (NFKC maps most of them anyway)
    (0x1B000, 0x1B16F),  # kana supplement / extended
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)
_UNSPACED_STARTS = [start for start, _ in _UNSPACED_RANGES]
_UNKNOWN_LANGS = frozenset({"", "und", "zxx", "mul", "mis"})
_LANG_RE = re.compile(r"[a-z]{2,3}(?:[-_][a-z0-9]{1,8})*", re.IGNORECASE)


def _is_unspaced(ch: str) -> bool:
    cp = ord(ch)
    i = bisect.bisect_right(_UNSPACED_STARTS, cp) - 1
    return i >= 0 and cp <= _UNSPACED_RANGES[i][1]


def _is_word(ch: str) -> bool:
    """A Latin-type word character: needs a boundary next to a Latin keyword edge."""
    return ch == "_" or (ch.isalnum() and not _is_unspaced(ch))


def _is_tag_char(ch: str) -> bool:
    """A character that continues a hashtag (any script)."""
    return ch == "_" or ch.isalnum() or unicodedata.category(ch).startswith("M")


def _build_invisible_table() -> dict[int, None]:
    table: dict[int, None] = {}
    for cp in itertools.chain(range(0x10000), range(0xE0000, 0xE0080)):
        if unicodedata.category(chr(cp)) == "Cf":
            table[cp] = None
    for cp in itertools.chain(range(0xFE00, 0xFE10), range(0xE0100, 0xE01F0)):  # variation selectors
        table[cp] = None
    return table


# Format characters (zero-width space/joiner, soft hyphen, BOM, bidi marks ...) and variation selectors.
_INVISIBLE_TABLE = _build_invisible_table()


def _char_class(codepoints: Iterable[int]) -> str:
    """A regex character class of code-point ranges: the sre engine is slow with long lists of singles."""
    ranges: list[list[int]] = []
    for cp in sorted(codepoints):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return (
        "[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in ranges) + "]"
    )


_INVISIBLE_RE = re.compile(_char_class(_INVISIBLE_TABLE))
_KATA_TO_HIRA: dict[int, int] = {cp: cp - 0x60 for cp in range(0x30A1, 0x30F7)}  # ァ..ヶ -> ぁ..ゖ
_KATA_TO_HIRA |= {0x30FD: 0x309D, 0x30FE: 0x309E}  # ヽヾ -> ゝゞ
_HIRA_TO_KATA = {hira: kata for kata, hira in _KATA_TO_HIRA.items()}


def _fold_kana(s: str) -> str:
    return s if s.isascii() else s.translate(_KATA_TO_HIRA)


def _normalize_unfolded(text: str) -> str:
    """normalize_text without the katakana -> hiragana step.  str.translate costs ~70 ns a character,
    so posts are scanned in this form and the compiled pattern accepts both kana scripts instead."""
    s = unicodedata.normalize("NFKC", text).casefold()
    if not s.isascii():
        if _INVISIBLE_RE.search(s):
            s = s.translate(_INVISIBLE_TABLE)
        if not unicodedata.is_normalized("NFKC", s):
            s = unicodedata.normalize("NFKC", s)
    return " ".join(s.split())


def normalize_text(text: str) -> str:
    """Canonical form used for matching: NFKC, casefold, katakana -> hiragana, no format characters,
    whitespace runs collapsed to one space and stripped.  Meant for comparison, not for display."""
    return _fold_kana(_normalize_unfolded(text))


def _lang_key(lang: str | None) -> str | None:
    """Primary language subtag in lower case, or None when the language is unknown."""
    if not lang:
        return None
    primary = lang.strip().lower().replace("_", "-").split("-", 1)[0]
    if primary in _UNKNOWN_LANGS or (len(primary) == 3 and "qaa" <= primary <= "qtz"):
        return None
    return primary


# ---------------------------------------------------------------------------------------- validation


def _term_problems(terms: object, what: str) -> list[str]:
    if isinstance(terms, str) or not isinstance(terms, Sequence):
        return [f"{what}s must be a list of strings, got {type(terms).__name__} {terms!r}"]
    problems: list[str] = []
    for i, term in enumerate(terms, 1):
        if not isinstance(term, str):
            problems.append(f"{what} {i} is not a string: {term!r}")
            continue
        if not term.strip():
            problems.append(f"{what} {i} {term!r} is empty or whitespace-only")
            continue
        norm = normalize_text(term)
        if not norm:
            problems.append(f"{what} {i} {term!r} normalises to nothing (only invisible characters)")
        elif not any(ch.isalnum() for ch in norm):
            problems.append(f"{what} {i} {term!r} has no letters or digits")
        elif len(norm) > MAX_KEYWORD_CHARS:
            problems.append(f"{what} {i} {term!r} is longer than {MAX_KEYWORD_CHARS} characters")
        elif norm[0] in "#@" and " " in norm:
            problems.append(f"{what} {i} {term!r}: a hashtag or @handle cannot contain spaces")
        elif norm.count(" ") >= MAX_PHRASE_WORDS:
            problems.append(f"{what} {i} {term!r} has more than {MAX_PHRASE_WORDS} words")
    return problems


def validate_keywords(keywords: Sequence[str]) -> list[str]:
    """Problems with a brand's keyword list (empty list, blank keyword, keyword that normalises to
    nothing ...); an empty result means the list is usable."""
    problems = _term_problems(keywords, "keyword")
    if not problems and not keywords:
        problems.append("keyword list is empty: a brand needs at least one keyword")
    return problems


@dataclass(frozen=True, slots=True)
class BrandRule:
    """Which posts mention a brand.  `languages` empty = any language.  Several rules may share a
    brand_id (e.g. per language); each rule is matched, and its exclusions applied, on its own."""

    brand_id: int
    keywords: list[str]
    exclude: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)

    def validate(self) -> list[str]:
        """Human-readable problems with this rule; empty when the rule is usable."""
        problems: list[str] = []
        if not isinstance(self.brand_id, int) or isinstance(self.brand_id, bool):
            problems.append(f"brand_id must be an int, got {self.brand_id!r}")
        problems += validate_keywords(self.keywords)
        problems += _term_problems(self.exclude, "exclude term")
        if isinstance(self.languages, str) or not isinstance(self.languages, Sequence):
            problems.append(f"languages must be a list of language codes, got {self.languages!r}")
        else:
            for lang in self.languages:
                if not isinstance(lang, str) or not _LANG_RE.fullmatch(lang.strip()):
                    problems.append(f"language {lang!r} is not a language code like 'ja' or 'en-US'")
                elif _lang_key(lang) is None:
                    problems.append(f"language {lang!r} means 'unknown' and can never be selected")
        if not problems and self.exclude:
            # A keyword that itself contains an exclude term can never count: reject it as a config error.
            excluder = _CompiledRules([BrandRule(0, list(self.exclude))])
            for kw in self.keywords:
                hit = excluder.explain(normalize_text(kw), None).get(0)
                if hit:
                    problems.append(f"keyword {kw!r} contains exclude term {hit[0]!r}, so it can never match")
        return problems


# ------------------------------------------------------------------------------------------ matching


@dataclass(frozen=True, slots=True)
class _Literal:
    check_prev: bool  # preceding char must not be a Latin-type word char
    end_mode: int  # _END_*
    owners: tuple[tuple[int, bool, int], ...]  # (rule index, is exclude term, term index)


_END_FREE, _END_WORD, _END_HASHTAG = 0, 1, 2


def _variants(norm: str) -> list[str]:
    """Literal spellings of a normalised keyword: a space next to an unspaced-script char is optional."""
    parts = norm.split(" ")
    gaps: list[tuple[str, ...]] = []
    for left, right in itertools.pairwise(parts):
        optional = _is_unspaced(left[-1]) or _is_unspaced(right[0])
        gaps.append((" ", "") if optional else (" ",))
    out = []
    for choice in itertools.product(*gaps):
        out.append(parts[0] + "".join(sep + part for sep, part in zip(choice, parts[1:], strict=True)))
    return out


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many (kana-folded) literals, shaped as a trie so the engine never tries keywords
    one by one; a hiragana also accepts its katakana.  At any position it matches the longest literal
    starting there.  Every top-level alternative starts with a plain character, so that `re` can skip
    quickly over positions where no literal can start (a leading character class disables that)."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, dict], root: bool = False) -> str:
        alts = []
        for ch, sub in sorted(node.items()):
            if not ch:
                continue
            kata = _HIRA_TO_KATA.get(ord(ch))
            if root and kata:  # top-level branches must start with a plain literal (see docstring)
                alts += [ch + build(sub), chr(kata) + build(sub)]
            else:
                alts.append((f"[{ch}{chr(kata)}]" if kata else re.escape(ch)) + build(sub))
        if not alts:
            return ""
        if len(alts) > 1:
            body = "(?:" + "|".join(alts) + ")"
        elif "" in node and len(alts[0]) > 1:
            body = "(?:" + alts[0] + ")"
        else:
            body = alts[0]
        return body + "?" if "" in node else body

    return build(trie, root=True)


class _CompiledRules:
    """The matching engine, without validation (BrandMatcher validates first)."""

    def __init__(self, rules: Sequence[BrandRule]) -> None:
        self.rules = list(rules)
        self.langs: list[frozenset[str] | None] = []
        owners: dict[str, list[tuple[int, bool, int]]] = {}
        for r_idx, rule in enumerate(self.rules):
            keys = {k for k in (_lang_key(lang) for lang in rule.languages) if k}
            self.langs.append(frozenset(keys) if keys else None)
            terms = [(False, i, kw) for i, kw in enumerate(rule.keywords)]
            terms += [(True, i, ex) for i, ex in enumerate(rule.exclude)]
            for is_exclude, t_idx, term in terms:
                norm = normalize_text(term)
                if not norm:
                    continue
                for literal in _variants(norm):
                    owners.setdefault(literal, []).append((r_idx, is_exclude, t_idx))
        self.literals: dict[str, _Literal] = {}
        for literal, own in owners.items():
            first, last = literal[0], literal[-1]
            if first == "#":
                end_mode = _END_HASHTAG
            elif first == "@" or _is_word(last):
                end_mode = _END_WORD
            else:
                end_mode = _END_FREE
            check_prev = first in "#@" or _is_word(first)
            self.literals[literal] = _Literal(check_prev, end_mode, tuple(dict.fromkeys(own)))
        # For each literal: itself and every shorter literal that is a prefix of it, shortest first.
        # The pattern matches the longest literal at a position; the shorter ones may hit as well.
        lengths = sorted({len(lit) for lit in self.literals})
        self.prefixes: dict[str, tuple[tuple[int, _Literal], ...]] = {
            lit: tuple(
                (k, self.literals[lit[:k]]) for k in lengths if k <= len(lit) and lit[:k] in self.literals
            )
            for lit in self.literals
        }
        self.regex = re.compile(_trie_pattern(self.literals)) if self.literals else None

    def scan(self, norm: str) -> tuple[dict[int, set[int]], set[int]]:
        """(rule index -> indices of keywords hit, rule indices hit by an exclude term) for a text
        normalised by `_normalize_unfolded` (kana folding is optional)."""
        hits: dict[int, set[int]] = {}
        excluded: set[int] = set()
        if self.regex is None:
            return hits, excluded
        search, prefixes, n = self.regex.search, self.prefixes, len(norm)
        pos = 0
        while (m := search(norm, pos)) is not None:
            start = m.start()
            prev_is_word = start > 0 and _is_word(norm[start - 1])
            for length, info in prefixes.get(_fold_kana(m.group()), ()):
                if info.check_prev and prev_is_word:
                    continue
                end = start + length
                if end < n and info.end_mode != _END_FREE:
                    nxt = norm[end]
                    if _is_word(nxt) if info.end_mode == _END_WORD else _is_tag_char(nxt):
                        continue
                for r_idx, is_exclude, t_idx in info.owners:
                    if is_exclude:
                        excluded.add(r_idx)
                    else:
                        hits.setdefault(r_idx, set()).add(t_idx)
            pos = start + 1
        return hits, excluded

    def _selected(self, norm: str, lang: str | None) -> dict[int, set[int]]:
        hits, excluded = self.scan(norm)
        key = _lang_key(lang)
        selected: dict[int, set[int]] = {}
        for r_idx, kws in hits.items():
            langs = self.langs[r_idx]
            if r_idx not in excluded and (key is None or langs is None or key in langs):
                selected[r_idx] = kws
        return selected

    def match(self, norm: str, lang: str | None) -> list[int]:
        return sorted({self.rules[r_idx].brand_id for r_idx in self._selected(norm, lang)})

    def explain(self, norm: str, lang: str | None) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for r_idx, kws in sorted(self._selected(norm, lang).items()):
            rule = self.rules[r_idx]
            found.setdefault(rule.brand_id, []).extend(rule.keywords[i] for i in sorted(kws))
        return {brand: list(dict.fromkeys(found[brand])) for brand in sorted(found)}


class BrandMatcher:
    """Compile many BrandRules once, then match many posts.

    Raises ValueError listing every problem if any rule does not validate.
    """

    def __init__(self, rules: Iterable[BrandRule]) -> None:
        rules = list(rules)
        problems = [f"brand {rule.brand_id!r}: {problem}" for rule in rules for problem in rule.validate()]
        if problems:
            raise ValueError("invalid brand rules:\n  " + "\n  ".join(problems))
        self._engine = _CompiledRules(rules)

    @property
    def rules(self) -> list[BrandRule]:
        return list(self._engine.rules)

    def match(self, text: str, lang: str | None = None) -> list[int]:
        """Brand ids mentioned by `text`, sorted, without duplicates."""
        return self._engine.match(_normalize_unfolded(text), lang)

    def explain(self, text: str, lang: str | None = None) -> dict[int, list[str]]:
        """For each brand `match` would return: the configured keywords (as written) that hit."""
        return self._engine.explain(_normalize_unfolded(text), lang)
