"""The offset ledger (workers.runtime.offsets): nothing is committed that was not processed.

Random schedules against a model of one partition: a log with real gaps (offsets the fetcher
never returns, like transaction markers); a fetcher that sometimes loses the rest of a batch it
fetched (as Faust's ``getmany`` does when flow stops or the generation changes mid-batch);
agents that finish records in any order and late; rebalances that seek back to the committed
offset while old records are still in the agents' hands; commits at any moment. The checks: a
commit never passes an offset that was not processed (or is a real gap), and with no more
faults the commits reach the end of the log.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from workers.runtime.offsets import Handover, OffsetLedger

TP = ("topic", 0)


@dataclass(eq=False)
class Record:
    offset: int


@dataclass
class Model:
    """One partition, its fetcher, its agents and its group's committed offset."""

    size: int
    holes: set[int]
    ledger: OffsetLedger[tuple[str, int]] = field(default_factory=OffsetLedger)
    position: int = 0  # the fetcher's position
    committed: int | None = None
    in_hand: list[Record] = field(default_factory=list)  # handed to agents, not finished
    processed: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.ledger.reset(TP, 0, None)

    def fetch(self, n: int, cut: int | None = None) -> None:
        """The fetcher returns up to ``n`` records from its position; with ``cut``, the
        records after the first ``cut`` are dropped after the position moved past them."""
        batch: list[int] = []
        while len(batch) < n and self.position < self.size:
            if self.position not in self.holes:
                batch.append(self.position)
            self.position += 1
        for offset in batch[:cut]:
            record = Record(offset)
            verdict = self.ledger.handover(TP, offset, record)
            if verdict is Handover.JUMP:
                self.position = self.ledger.next_offset(TP) or 0  # seek back, drop the rest
                return
            if verdict is Handover.DELIVER:
                self.in_hand.append(record)

    def finish(self, rng: random.Random, k: int) -> None:
        for _ in range(min(k, len(self.in_hand))):
            record = self.in_hand.pop(rng.randrange(len(self.in_hand)))
            self.processed.add(record.offset)
            self.ledger.done(TP, record.offset, record)

    def rebalance(self) -> None:
        """Seek to the committed offset; the records in hand stay there (finished later)."""
        self.position = self.committed or 0
        self.ledger.reset(TP, self.position, self.committed)

    def commit(self) -> None:
        reread = self.ledger.stalled(TP, self.size)
        if reread is not None:
            self.position = reread
        offset = self.ledger.committable(TP)
        if offset is not None:
            self.committed = offset
            self.ledger.committed(TP, offset)
        assert all(o in self.processed or o in self.holes for o in range(self.committed or 0)), (
            f"committed {self.committed} past unprocessed "
            f"{sorted(set(range(self.committed or 0)) - self.processed - self.holes)[:5]}"
        )


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32), size=st.integers(1, 80), steps=st.integers(1, 120))
def test_never_commits_past_unprocessed_and_reaches_the_end(
    seed: int, size: int, steps: int
) -> None:
    rng = random.Random(seed)
    holes = {o for o in range(size - 1) if rng.random() < 0.1}  # the last offset is a record
    model = Model(size, holes)
    for _ in range(steps):
        action = rng.random()
        if action < 0.4:
            cut = rng.randint(0, 9) if rng.random() < 0.2 else None
            model.fetch(rng.randint(1, 10), cut)
        elif action < 0.7:
            model.finish(rng, rng.randint(1, 5))
        elif action < 0.8:
            model.rebalance()
        else:
            model.commit()
    # No more faults: fetch, finish and commit until nothing moves.
    for _ in range(4 * size + 10):
        model.fetch(10)
        model.finish(rng, len(model.in_hand))
        model.commit()
    assert model.committed == size


def test_a_jump_is_reread_once_then_taken_for_a_real_gap() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.reset(TP, 10, 10)
    assert ledger.handover(TP, 13, Record(13)) is Handover.JUMP  # 10-12 missing: re-read
    assert ledger.next_offset(TP) == 10
    assert ledger.handover(TP, 13, Record(13)) is Handover.DELIVER  # the same jump again: a gap
    assert ledger.committable(TP) == 13  # 13 is in flight


def test_the_committed_offset_itself_is_the_next_record_after_a_seek() -> None:
    """Faust's loop took the committed offset C for the last record read and skipped C when
    C+1 came first; here C is the next record expected, so C+1 first is a jump."""
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.reset(TP, 7, 7)
    assert ledger.handover(TP, 8, Record(8)) is Handover.JUMP
    record = Record(7)
    assert ledger.handover(TP, 7, record) is Handover.DELIVER
    assert ledger.committable(TP) is None  # 7 in flight: nothing beyond 7 to commit


def test_a_new_group_does_not_commit_past_an_unfinished_head() -> None:
    """No committed offset (a new group, or right after a revocation): Faust skipped its
    head-of-partition check then and committed 75 with offsets 17..74 acked."""
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.reset(TP, 0, None)
    records = [Record(o) for o in range(75)]
    for record in records:
        assert ledger.handover(TP, record.offset, record) is Handover.DELIVER
    for record in records[17:]:
        ledger.done(TP, record.offset, record)
    assert ledger.committable(TP) == 0


def test_done_of_a_record_from_before_the_reset_is_ignored() -> None:
    """Records fetched before a rebalance and dropped (or finished) after it must not move the
    commit past the same offsets handed over again."""
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.reset(TP, 0, None)
    old = Record(0)
    ledger.handover(TP, 0, old)
    ledger.reset(TP, 0, None)
    new = Record(0)
    ledger.handover(TP, 0, new)
    assert not ledger.done(TP, 0, old)
    assert ledger.committable(TP) == 0
    assert ledger.done(TP, 0, new)
    assert ledger.committable(TP) == 1


def test_a_withdrawn_hand_over_is_expected_again() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.reset(TP, 5, 5)
    record = Record(5)
    ledger.handover(TP, 5, record)
    ledger.withdraw(TP, 5, record)
    assert ledger.next_offset(TP) == 5
    assert ledger.committable(TP) is None
    assert ledger.handover(TP, 6, Record(6)) is Handover.JUMP


def test_a_partition_no_longer_ours_is_stale_and_not_committed() -> None:
    ledger: OffsetLedger[tuple[str, int]] = OffsetLedger()
    ledger.reset(TP, 0, None)
    ledger.drop([TP])
    assert ledger.handover(TP, 0, Record(0)) is Handover.STALE
    assert ledger.committable(TP) is None
