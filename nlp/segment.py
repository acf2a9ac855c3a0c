"""jieba set-up: dictionary cache under the data dir, the domain user dict loaded once.

Everything else in ``nlp`` segments through :func:`cut`, so there is exactly one
jieba pass per message.
"""
from __future__ import annotations

import logging
import marshal
import os
import re
import sys
import threading
from pathlib import Path

from common.datadir import data_dir


# jieba 0.42 imports pkg_resources (setuptools: ~0.1 s at every start, and a deprecation
# warning) only to open its bundled dictionary, and opens the same file by path without it.
_HIDE_PKG_RESOURCES = "pkg_resources" not in sys.modules
if _HIDE_PKG_RESOURCES:
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # makes that import fail
try:
    import jieba
finally:
    if _HIDE_PKG_RESOURCES:
        del sys.modules["pkg_resources"]

USERDICT_PATH = Path(__file__).with_name("userdict.txt")

_lock = threading.Lock()
_ready: set[Path] = set()


def setup(userdict_path: Path | None = None) -> jieba.Tokenizer:
    """Initialise the global jieba tokenizer once (cache in the data dir, user dict loaded)."""
    path = (userdict_path or USERDICT_PATH).resolve()
    with _lock:
        if path in _ready:
            return jieba.dt
        jieba.setLogLevel(logging.WARNING)  # jieba logs "Building prefix dict" to stderr otherwise
        if not jieba.dt.initialized:
            cache_dir = data_dir()
            if os.access(cache_dir, os.W_OK):
                jieba.dt.tmp_dir = str(cache_dir)
                jieba.dt.cache_file = "jieba.cache"
                _load_cache(cache_dir / "jieba.cache")
            if not jieba.dt.initialized:
                jieba.dt.initialize()  # builds the prefix dictionary and writes the cache
        if path.is_file():
            jieba.dt.load_userdict(str(path))
        _ready.add(path)
    return jieba.dt


def _load_cache(path: Path) -> None:
    """jieba's own cache, read in one piece: jieba's ``marshal.load(file)`` calls the file's
    ``readinto`` for each of its ~500,000 entries (0.5–1 s of every start; ``loads`` on the bytes
    takes 0.3 s). A missing or unreadable cache is left to ``initialize`` to rebuild."""
    try:
        freq, total = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return
    if isinstance(freq, dict) and isinstance(total, int):
        jieba.dt.FREQ, jieba.dt.total, jieba.dt.initialized = freq, total, True


def cut(text: str) -> list[str]:
    """Segment ``text`` (HMM on, so unseen place/person names stay whole)."""
    if not _ready:
        setup()
    return jieba.dt.lcut(text)


# Words every notice has (and every question about one): sharing them says nothing about
# which notice a question is about, or which problem a chase is about.
_COMMON_WORDS = frozenset(
    "通知 公告 提醒 各位 居民 大家 业主 小区 社区 物业 楼道 单元 本楼 本周 下周 今天 明天 后天 今晚 明早 上午 下午 "
    "晚上 中午 时间 期间 届时 请问 提前 做好 准备 注意 配合 理解 感谢 谢谢 收到 回复 安排 进行 工作 情况 相关 "
    "我们 你们 他们 可以 需要 已经 如果 因为 所以 以及 或者 还是 就是 一下 一些 这个 那个 什么 时候 怎么 为什么 "
    "网格 网格员 楼道长 信息员 保障员 什么时候 啥时候 几点 几号 多久 哪里 哪儿 在哪 开始 结束 知道 怎么办 是不是 "
    "有没有 能不能 可不可以 会不会 要不要 现在 刚才 一直 没有 不是 这样 真的 应该 问题 事情 东西 地方 大概 "
    "不要 预计 大约 左右 及时 尽量 务必 一律".split()
)

# Chinese words without a time word in them: "周六", "点到", "今天下午" fit every notice.
_CONTENT = re.compile(r"[\u4e00-\u9fff]+")
_TIME_CHARS = re.compile(r"[点时天周月日号年午晚早]")


def content_words(text: str) -> set[str]:
    """Content words (two characters or more, not ones every notice or question has)."""
    words = (w for w in cut(text) if len(w) >= 2 and _CONTENT.fullmatch(w))
    return {w for w in words if not _TIME_CHARS.search(w) and w not in _COMMON_WORDS}
