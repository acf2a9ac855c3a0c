"""Upper bounds on the statements one message costs (counting is deterministic; timing is not).

bench/statements.py drives one message of each kind (chatter, a petition, a follow-up, a staff
command, a notice, a receipt) through the whole bot and records every statement the driver ran,
split into the handling and the outbox sending its replies. Measured in the second round, when
the directory cache is warm, as in a running bot. A change that adds a query to the per-message
path fails here and says which kind grew.
"""
from __future__ import annotations

from tests.test_bench_smoke import _load

# kind -> (handling statements, handling commits, sending statements). The handling is exact; the
# sending allows two more for the outbox worker's idle passes, whose number depends on timing.
# Before issue 15's work (warm cache): chatter 2 statements in 2 transactions (the directory stamp
# on a connection of its own), a petition 15 (the log written twice, the responsible staff and their
# names read each time), a follow-up 13, a staff command 9, a notice 10, a receipt 6.
BUDGET = {
    "chatter": (2, 1, 4),
    "petition": (11, 1, 24),
    "follow-up": (10, 1, 24),
    "staff command": (8, 1, 18),
    "notice": (9, 1, 17),
    "receipt": (6, 1, 4),
}


async def test_statements_per_message_stay_within_budget(chat):
    statements = _load("statements")
    names = {p.id: p.name for p in chat.app.config.people}
    runs = await statements.per_kind(chat.app, chat.transport, names=names, rounds=2)
    warm = runs[len(statements.KINDS):]
    assert [r.kind for r in warm] == list(BUDGET)
    assert [r.route for r in warm] == ["other", "petition", "petition", "command", "command", "receipt"]
    for run in warm:
        most, commits, sending = BUDGET[run.kind]
        assert run.handling.count <= most, (run.kind, run.handling.summary())
        assert run.handling.commits == commits and run.handling.transactions == 1, (run.kind, run.handling.summary())
        assert run.sending.count <= sending, (run.kind, run.sending.summary())
    chatter = warm[0].handling
    assert chatter.writes == 1  # the log insert, carrying its route: no UPDATE afterwards
