"""A message sent in pieces seconds apart, read as one.

Elderly residents press send mid-sentence: "402那个一个人住的老太太", then "敲门一直不应电话也打不通
两天没见她下楼了". Each piece alone is chatter; together they are an old person living alone who
does not answer. The dispatcher keeps each sender's recent quiet pieces per chat here (in memory:
a chat is served by one process, and a restart losing a minute of pieces loses nothing stored)
and reads the next line with them: when together they tell of a danger, the line is handled as
the whole sentence.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import datetime, timedelta

PIECE_WINDOW = timedelta(seconds=60)  # the gap between two pieces of one sentence
MAX_PIECES = 3  # what is kept per sender: a sentence, not a conversation
MAX_CHARS = 120  # a long message is a message of its own
MAX_SENDERS = 4096  # senders remembered at once (the oldest forgotten first)


class Pieces:
    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[str, str], tuple[datetime, list[str]]] = OrderedDict()

    def before(self, key: tuple[str, str], at: datetime) -> str | None:
        """The sender's quiet pieces just before ``at`` (joined by a space), or None."""
        kept = self._kept.get(key)
        if kept is None or not timedelta(0) <= at - kept[0] <= PIECE_WINDOW:
            return None
        return " ".join(kept[1])

    def keep(self, key: tuple[str, str], at: datetime, text: str) -> None:
        """A quiet line: the last few within the window are kept for the next one."""
        if len(text) > MAX_CHARS:
            self.forget(key)
            return
        earlier = self.before(key, at)
        pieces = (self._kept[key][1] if earlier is not None else []) + [text]
        self._kept[key] = (at, pieces[-MAX_PIECES:])
        self._kept.move_to_end(key)
        while len(self._kept) > MAX_SENDERS:
            self._kept.popitem(last=False)

    def forget(self, key: tuple[str, str]) -> None:
        """The sender's line acted on something: what came before it is used up."""
        self._kept.pop(key, None)

    def after(self, key: tuple[str, str], at: datetime, said: str, label: str) -> None:
        """Kept when the line was chatter; a line that acted uses up what came before it."""
        if label == "other":
            self.keep(key, at, said)
        else:
            self.forget(key)
