"""Keep the Traditional Chinese catalogs (zh_Hant) in step with the Simplified ones (zh_Hans).

    python -m locales.sync_hant            # list keys missing in zh_Hant, or left over there
    python -m locales.sync_hant --draft    # also append drafts of the missing ones

A draft is the zh_Hans text converted with OpenCC (``s2twp``: Taiwan phrases) when the
``opencc`` module is installed (``pip install opencc-python-reimplemented``: a drafting tool
only, never a dependency of Courtyard), then passed through :data:`FIXES`, the corrections a
Taiwan or Hong Kong reader needs that OpenCC does not make (您 throughout, 「」 quotes, 審核
通過 rather than 稽核透過, 群組, 社區, 私訊, 指令 ...). Without OpenCC the draft is the zh_Hans
text itself. Every draft is written ``#, fuzzy``: the bot ignores fuzzy entries (English is
shown instead) and tests/test_i18n.py fails on them, so a draft is live only after someone has
read it as a native reader would, fixed it and removed the flag. See locales/STYLE.md.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent
SOURCE = "zh_Hans"
TARGET = "zh_Hant"

#: Applied in order to OpenCC's output. Each is a word a mainland text uses where a Taiwan or
#: Hong Kong reader expects another, or a known OpenCC slip (表决 → 錶決, 通过 → 透過).
FIXES: tuple[tuple[str, str], ...] = (
    ("你們雙方", "雙方"),
    ("為你們牽線", "為二位牽線"),
    ("你們", "各位"),
    ("你", "您"),
    ("錶決", "表決"),
    ("稽覈", "審核"),
    ("稽核", "審核"),
    ("透過", "通過"),
    ("釋出", "發布"),
    ("回復", "回覆"),
    ("私信", "私訊"),
    ("私聊", "私訊"),
    ("命令", "指令"),
    ("獲取", "取得"),
    ("刷屏", "洗版"),
    ("群聊", "群組"),
    ("群主", "群組管理員"),
    ("全群", "整個群組"),
    ("退群", "退出群組"),
    ("小區", "社區"),
    ("樓棟", "大樓"),
    ("日曆", "行事曆"),
    ("天后", "天後"),
    ("志願時長", "志工時數"),
    ("志願者", "志工"),
    ("條訊息", "則訊息"),
    ("條資訊", "則訊息"),
    ("條記錄", "筆記錄"),
    ("條登記", "筆登記"),
    ("賬", "帳"),
    ("隻能", "只能"),
    ("麵積", "面積"),
    ("回複", "回覆"),
    ("併傳送", "並傳送"),
    ("不線上", "離線"),
    ("平方米", "平方公尺"),
    ("Asia/Shanghai", "Asia/Taipei"),
    ("北京時間", "台北時間"),
    ("取快遞", "領包裹"),
    ("型別", "類型"),
    ("許可權", "權限"),
    ("銷燬", "銷毀"),
    ("關鍵詞", "關鍵字"),
    ("支援", "支持"),
    ("專案", "項目"),
    ("院子", "中庭"),
    ("“", "「"),
    ("”", "」"),
    ("‘", "『"),
    ("’", "』"),
)
_GROUP = re.compile("群(?![組眾體])")


def fix(text: str) -> str:
    """Taiwan/Hong Kong vocabulary and punctuation for a converted text (see :data:`FIXES`)."""
    for old, new in FIXES:
        text = text.replace(old, new)
    return _GROUP.sub("群組", text)


def convert(text: str) -> str:
    """A first draft of ``text`` (Simplified) in Traditional Chinese, to be read and fixed."""
    try:
        import opencc  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return fix(text)
    return fix(opencc.OpenCC("s2twp").convert(text))


def _keys(path: Path) -> dict[str, object]:
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return {(m.id if isinstance(m.id, str) else m.id[0]): m for m in read_po(fh) if m.id}


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _draft_entry(message: object) -> str:
    mid, string = message.id, message.string  # type: ignore[attr-defined]
    lines = ["", "#, fuzzy"]
    if isinstance(mid, str):
        lines += [f"msgid {_quote(mid)}", f"msgstr {_quote(convert(string))}"]
    else:
        lines += [f"msgid {_quote(mid[0])}", f"msgid_plural {_quote(mid[1])}"]
        lines += [f"msgstr[{i}] {_quote(convert(s))}" for i, s in enumerate(string)]
    return "\n".join(lines) + "\n"


def differences() -> dict[str, tuple[list[str], list[str]]]:
    """Per file name: (keys in zh_Hans missing in zh_Hant, keys only in zh_Hant)."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for source in sorted((ROOT / SOURCE / "LC_MESSAGES").glob("*.po")):
        target = ROOT / TARGET / "LC_MESSAGES" / source.name
        have, want = _keys(target), _keys(source)
        missing = [k for k in want if k not in have]
        extra = [k for k in have if k not in want]
        if missing or extra:
            found[source.name] = (missing, extra)
    return found


def main(argv: list[str]) -> int:
    draft = "--draft" in argv
    found = differences()
    for name, (missing, extra) in found.items():
        for key in missing:
            print(f"{name}: missing {key}")
        for key in extra:
            print(f"{name}: only in {TARGET} {key}")
        if draft and missing:
            source = _keys(ROOT / SOURCE / "LC_MESSAGES" / name)
            target = ROOT / TARGET / "LC_MESSAGES" / name
            if not target.exists():
                header = (ROOT / SOURCE / "LC_MESSAGES" / name).read_text(encoding="utf-8")
                header = header.split("\n\n", 1)[0].replace(
                    "Language: zh_Hans", "Language: zh_Hant"
                )
                target.write_text(convert(header) + "\n", encoding="utf-8")
            with target.open("a", encoding="utf-8") as fh:
                for key in missing:
                    fh.write(_draft_entry(source[key]))
            print(f"{name}: {len(missing)} drafts appended (#, fuzzy): read them, then unflag")
    if not found:
        print(f"{TARGET} has every key of {SOURCE}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
