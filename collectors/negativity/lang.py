"""Fast script-based language guess for short social-media posts.

Not a general language identifier: it looks at which Unicode scripts the letters of a post belong to.
Any kana means Japanese (a Japanese post quoting English is still Japanese); Han characters without
kana are Japanese unless they contain simplified-only Chinese characters; Latin letters mean English
(the scorer treats every Latin-script post as English). Posts without letters are "und".
"""

from __future__ import annotations

import re

# Characters that exist only in simplified Chinese (their Japanese forms differ), plus a few function
# words that Japanese does not write in kanji. Enough to tell a Chinese post from a kanji-only Japanese
# headline; a Traditional-Chinese post without kana is reported as "ja" (documented limitation).
_SIMPLIFIED = frozenset(
    "们这个说时来对为吗么过还没现发话让东车买卖门问间见觉认识请谢该们边进远运选产办务动劳势"
    "区医华单卫压厂历县双变启员围图场坏块坚尽层岁岛币师带帮广应庆废开异弃张录总愿戏战执扩扫"
    "挤换损摇敌数无时显晓机杀杂权条来极构标样档桥梦检汉汤沟没泪洁济浅测浓涛润涨渐温湾满滚灭"
    "灯灵烦热爱爷牵犹狱环现电疗盖监着矿码础离种称积穷窝笔简类粮紧红约级纪纯纲纳纵纷纸线练组"
    "细织终经绑结绕绘给络绝统继绩续维综绿缓编缘网罗职联肤胁脑脚脸舰艺节范荣药莱获虑虽补装见"
    "观规觉览誉计订认讨让训议讯记讲许论设访证评识诉词译试诗诚话该详语误说请诸读课谁调谈谋谓"
    "谢谱贝负贡财责贤败货质贩贪购贯贴贵贷贸费贺资赋赏赖赚赛赞赵赶跃践轨转轮软轻载较辅辆辈辑输"
    "边辽达迁过运还这进远违连迟适选递逻遗邮邻郑酱释钟钢钱铁铜银锁错键镇长门问闪闭闲间闻阅队阳"
    "阴阵阶际陆陈险随隐难雾须顶顷项顺须顾顿预领颇频颗题颜额风飞饭饮饱饿馆驱驾验骂骑鱼鸟鸡鸣鸭"
    "龙龟"
)


_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile("[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_SIMPLIFIED_RE = re.compile("[" + "".join(sorted(_SIMPLIFIED)) + "]")
# Other scripts, checked only when there is no kana or Han. Latin includes full-width letters.
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("en", re.compile("[A-Za-z\u00c0-\u024f\uff21-\uff3a\uff41-\uff5a]")),
    ("ko", _HANGUL),
    ("ru", re.compile("[\u0400-\u04ff]")),
    ("ar", re.compile("[\u0600-\u06ff]")),
    ("th", re.compile("[\u0e00-\u0e7f]")),
    ("he", re.compile("[\u0590-\u05ff]")),
    ("el", re.compile("[\u0370-\u03ff]")),
    ("hi", re.compile("[\u0900-\u097f]")),
)


def detect_language(text: str) -> str:
    """Return "ja", "en", "ko", "zh", another ISO 639-1 code, or "und" for a post."""
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        if _SIMPLIFIED_RE.search(text):
            return "zh"
        # Korean written with some Hanja: more Hangul than Han.
        if _HANGUL.search(text) and len(_HANGUL.findall(text)) > len(_HAN.findall(text)):
            return "ko"
        return "ja"
    best, best_count = "und", 0
    for code, pattern in _SCRIPTS:
        count = len(pattern.findall(text))
        if count > best_count:
            best, best_count = code, count
    return best
