"""Chinese words for when.py: Traditional characters and Cantonese, folded to the Simplified
Mandarin words the grammar reads.

Residents in Hong Kong, Taiwan, Macau and the diaspora write Traditional characters, and in
Hong Kong often Cantonese words: 聽日 (tomorrow), 後日 (the day after),
晏晝 (afternoon), 今個星期五 (this Friday). :func:`fold` turns them into
明天, 后天, 下午, 这个星期五 before the grammar reads the phrase. The character
table is the part of OpenCC's Traditional-to-Simplified table that time phrases
and the words around them use; the word table is Cantonese and Taiwanese usage.
"""

from __future__ import annotations

import re
from typing import Final

#: Traditional -> Simplified, one character each (the subset time phrases use).
_CHARS: Final[str] = (
    "週周禮礼點点號号後后鐘钟時时個个兩两這这聽听現现當当來来過过間间與与從从裡里裏里晝昼淩凌"
    "歲岁幾几會会開开們们麼么嗎吗請请記记訴诉說说發发議议樓楼區区門门車车電电場场費费齊齐"
    "屆届啟启曆历節节農农陰阴陽阳頭头國国東东華华樂乐雙双單单對对為为爲为於于終终夠够億亿"
    "萬万鐘钟準准還还臺台應应該该緊紧馬马據据趕赶遲迟尋寻黃黄鬧闹"
)
CHARS: Final[dict[int, str]] = {ord(a): b for a, b in zip(_CHARS[::2], _CHARS[1::2], strict=True)}

#: Cantonese (and Taiwanese) words -> the Mandarin words of the grammar, after CHARS.
_WORDS: Final[dict[str, str]] = {
    "听日朝早": "明天早上",
    "听朝早": "明天早上",
    "听日": "明天",
    "听朝": "明早",
    "听晚黑": "明晚",
    "听晚": "明晚",
    "大后日": "大后天",
    "后日": "后天",
    "寻日": "昨天",
    "琴日": "昨天",
    "前日": "前天",
    "今朝早": "今天早上",
    "今朝": "今早",
    "今晚黑": "今晚",
    "夜晚黑": "晚上",
    "晚黑": "晚上",
    "朝早": "早上",
    "晏昼": "下午",
    "下昼": "下午",
    "上昼": "上午",
    "今个": "这个",
    "呢个": "这个",
    "而家": "现在",
    "宜家": "现在",
    "即刻": "立刻",
}
_WORD_PATTERN: Final = re.compile("|".join(sorted(map(re.escape, _WORDS), key=len, reverse=True)))
#: "三点一个字" is 3:05 in Cantonese: a 字 is five minutes on the clock face.
_ZI: Final = re.compile(r"(点|时)(?:钟)?([一二两三四五六七八九十]|1[01]|[1-9])个字")
_ZI_DIGITS: Final[dict[str, int]] = {
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
    "十": 10,
}  # fmt: skip


def _zi(m: re.Match[str]) -> str:
    count = m.group(2)
    fives = int(count) if count.isdigit() else _ZI_DIGITS[count]
    return f"{m.group(1)}{fives * 5:02d}分"


def fold(text: str) -> str:
    """``text`` (lower-cased, NFKC) with Traditional characters and Cantonese words folded."""
    if not any("\u4e00" <= ch <= "\u9fff" for ch in text):
        return text
    value = text.translate(CHARS)
    value = _WORD_PATTERN.sub(lambda m: _WORDS[m.group(0)], value)
    return _ZI.sub(_zi, value)
