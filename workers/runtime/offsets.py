"""Which input offset may be committed: the offset ledger. Plain Python, no Kafka here.

The invariant this module keeps, per input partition: the offset committed is never past a
record that was handed to an agent and not yet finished, and never past a record that was not
handed to an agent at all. Finished ("done") is what the batch code says after every record a
record produced was acknowledged by the broker (next topic or dead letter); the commit itself
waits for the table changelogs (``workers.runtime.delivery``). So:

    committable(tp) = the first offset handed over and not done, else the next offset expected

Why a ledger of our own instead of Faust's acked-offset lists: Faust (0.15.3) counts any
offset jump as a real gap and acknowledges the missing offsets; skips the gap check at the head
of a partition when the committed offset is None or 0 (a new group, or right after a
revocation); and acknowledges events its streams drop (fetched before a rebalance, or while
flow was suspended). Each of these let a commit move past records that were never processed.
Here an offset only counts when the batch code says so, and the next offset expected only
moves one by one (or across a jump that a re-read confirmed).

Epochs: every reset of a partition (assignment, seek) starts a new epoch; what was handed
over before it is forgotten, and a ``done`` for such a record is ignored (it is identified by
the record object, not only its offset, since the same offset is handed over again after the
seek).
"""

from __future__ import annotations

import enum
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

TP = TypeVar("TP", bound=Hashable)


class Handover(enum.Enum):
    """What to do with a record the fetcher returned."""

    DELIVER = "deliver"  #: the next record expected: hand it to the agents
    STALE = "stale"  #: already handed over, or a partition not (or no longer) ours: drop it
    JUMP = "jump"  #: offsets are missing before it: re-read from the expected offset first


@dataclass
class _Partition:
    next_offset: int  #: the offset the fetcher must hand over next
    in_flight: dict[int, object] = field(default_factory=dict)  #: offset -> record, in order
    committed: int | None = None  #: last offset committed (or found committed at the reset)
    jump: tuple[int, int] | None = None  #: a jump (expected, seen) waiting for its re-read
    stall: tuple[int, int, bool] | None = None  #: (expected, end, re-read asked) last seen


class OffsetLedger(Generic[TP]):
    """The committable offset of every input partition this consumer owns (see the module
    docstring). Not thread-safe: used from the event loop only."""

    def __init__(self) -> None:
        self._parts: dict[TP, _Partition] = {}

    def reset(self, tp: TP, next_offset: int, committed: int | None = None) -> None:
        """The fetcher will hand over ``tp`` from ``next_offset`` on (assignment or seek);
        ``committed`` is the group's committed offset, when known."""
        self._parts[tp] = _Partition(next_offset=next_offset, committed=committed)

    def drop(self, tps: Iterable[TP]) -> None:
        """Forget partitions that are no longer ours."""
        for tp in tps:
            self._parts.pop(tp, None)

    def partitions(self) -> list[TP]:
        return list(self._parts)

    def handover(self, tp: TP, offset: int, record: object) -> Handover:
        """Decide about a fetched record; on DELIVER it is in flight from now on."""
        part = self._parts.get(tp)
        if part is None or offset < part.next_offset:
            return Handover.STALE
        if offset > part.next_offset:
            if part.jump == (part.next_offset, offset):  # the re-read saw the same jump
                part.jump = None  # a real gap (compaction, transaction markers): cross it
            else:
                part.jump = (part.next_offset, offset)
                return Handover.JUMP
        part.jump = None
        part.in_flight[offset] = record
        part.next_offset = offset + 1
        return Handover.DELIVER

    def withdraw(self, tp: TP, offset: int, record: object) -> None:
        """A record returned DELIVER but could not be handed to the agents after all (the
        hand-over was cancelled): it must be fetched again, so the partition expects it next."""
        part = self._parts.get(tp)
        if part is not None and part.in_flight.get(offset) is record:
            del part.in_flight[offset]
            part.next_offset = min(part.next_offset, offset)

    def done(self, tp: TP, offset: int, record: object) -> bool:
        """The record is finished (its outputs acknowledged). False when it is not the record
        handed over in this epoch (a stale one): nothing changes then."""
        part = self._parts.get(tp)
        if part is None or part.in_flight.get(offset) is not record:
            return False
        del part.in_flight[offset]
        return True

    def done_offset(self, tp: TP, offset: int) -> bool:
        """``done`` for whatever record of this epoch was handed over at ``offset``: for acks
        that name only the offset, and only where the record at that offset was processed
        (in this epoch or an earlier one: its outputs exist either way)."""
        part = self._parts.get(tp)
        if part is None or offset not in part.in_flight:
            return False
        del part.in_flight[offset]
        return True

    def committable(self, tp: TP) -> int | None:
        """The offset to commit for ``tp`` now, or None when it would not move forward."""
        part = self._parts.get(tp)
        if part is None:
            return None
        offset = next(iter(part.in_flight), part.next_offset)
        if part.committed is not None and offset <= part.committed:
            return None
        return offset

    def committed(self, tp: TP, offset: int) -> None:
        """``offset`` was committed for ``tp``."""
        part = self._parts.get(tp)
        if part is not None and (part.committed is None or offset > part.committed):
            part.committed = offset

    def stalled(self, tp: TP, end: int | None) -> int | None:
        """The offset to read ``tp`` again from, when it stalls below the broker's ``end``.

        Records fetched and then dropped before their hand-over show as a jump when the next
        record comes; at the end of a partition no next record may come. So a partition with
        nothing in flight whose next expected offset stays below ``end`` at two calls in a row
        (the consumer calls this at every commit) is read again from that offset, once for
        that state: a transaction marker at the end of a partition also stays below ``end``.
        """
        part = self._parts.get(tp)
        if part is None:
            return None
        if end is None or part.next_offset >= end or part.in_flight:
            part.stall = None
            return None
        if part.stall is None or part.stall[:2] != (part.next_offset, end):
            part.stall = (part.next_offset, end, False)
            return None
        if part.stall[2]:
            return None
        part.stall = (part.next_offset, end, True)
        return part.next_offset

    def next_offset(self, tp: TP) -> int | None:
        """The offset ``tp`` must hand over next (None when the partition is not ours)."""
        part = self._parts.get(tp)
        return part.next_offset if part is not None else None

    def in_flight(self, tp: TP) -> int:
        """Records of ``tp`` handed over and not done yet."""
        part = self._parts.get(tp)
        return len(part.in_flight) if part is not None else 0
