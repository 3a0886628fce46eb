"""Faust's aiokafka consumer, with commits decided by the offset ledger (``offsets`` here).

The rule, stated where offsets are committed (``_commit_offsets``): an input offset is
committed only after every record it produced is acknowledged by the broker. The batch code
marks a record done once the records it sent on (next topic, dead letter) are acknowledged
(``streams``); the ledger commits no further than the first record not done, nor past
any record not handed to an agent; and the commit first waits for the producer to deliver
everything queued before it, table changelog records included (``workers.runtime.delivery``). A
send that failed stops the worker instead of committing (its table state may be ahead of the
changelog; the restart rebuilds it, ``workers.runtime.statedir``).

Faust internals used here (faust-streaming 0.15.3, pinned in pyproject.toml): the read loop
``Consumer._drain_messages`` (copied, with the ledger's hand-over), ``_read_offset``,
``_committed_offset``, ``_unacked_messages``, ``_waiting_for_ack``, ``_seek``,
``_filter_tps_with_pending_acks``, ``_filter_committable_offsets``, ``_commit_offsets``, and
``faust.types.tuples.ack_lock``.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, cast

from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP, Message
from faust.types.transports import TPorTopicSet
from faust.types.tuples import ack_lock
from mode import Service, ServiceT
from mode.utils.futures import notify

from workers.runtime.delivery import DeliveryFailed, TrackingProducer
from workers.runtime.offsets import Handover, OffsetLedger

log = logging.getLogger("newsflow.consumer")


class LedgerConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer; what may be committed is the ledger's (module docstring)."""

    @property
    def ledger(self) -> OffsetLedger[TP]:
        ledger = self.__dict__.get("_ledger")
        if ledger is None:
            ledger = self.__dict__["_ledger"] = OffsetLedger()
        return cast(OffsetLedger[TP], ledger)

    def done(self, message: Message) -> None:
        """The batch code finished ``message``: everything it produced is acknowledged."""
        self.ledger.done(message.tp, message.offset, message)

    def done_explicitly(self, topics: Iterable[str], pattern: re.Pattern[str] | None) -> None:
        """Records of ``topics`` (and of topics matching ``pattern``) are done when the batch
        code says so (``done``), never by Faust's ack: Faust acks a batch's records even when
        the agent failed on them."""
        self.__dict__.setdefault("_explicit", set()).update(topics)
        if pattern is not None:
            self.__dict__.setdefault("_explicit_patterns", []).append(pattern)

    def _done_by_ack(self, topic: str) -> bool:
        if topic in self.__dict__.get("_explicit", ()):
            return False
        return not any(p.fullmatch(topic) for p in self.__dict__.get("_explicit_patterns", ()))

    # -- where the fetcher starts: assignment and seeks reset the ledger ----------------------

    async def perform_seek(self) -> None:
        """Seek every partition to its committed offset, and start the ledger there.

        aiokafka's ``seek_to_committed`` seeks only where the committed offset is above 0; a
        partition committed at 0, or not at all (a new group), stays where the fetcher happens
        to be. During a rebalance's table recovery the fetcher has often moved on by then
        (Faust drops what it returned), so the head of such a partition was skipped. Here those
        partitions are sought explicitly: to 0, or where ``auto_offset_reset`` says."""
        committed = await self.seek_to_committed()
        self._read_offset.update(
            {tp: o if o is not None and o >= 0 else None for tp, o in committed.items()}
        )
        self._committed_offset.update({tp: o or None for tp, o in committed.items() if o})
        inputs = [tp for tp in committed if self.app.topics.acks_enabled_for(tp.topic)]
        unset = [tp for tp in inputs if committed[tp] is None]
        starts: dict[TP, int] = {tp: committed[tp] or 0 for tp in inputs if tp not in unset}
        if unset:
            if self.app.conf.consumer_auto_offset_reset == "latest":
                starts.update(await self._thread.highwaters(*unset))
            else:
                starts.update(await self._thread.earliest_offsets(*unset))
        for tp in inputs:
            offset = starts[tp]
            if not committed[tp]:  # 0 or none: aiokafka did not seek
                await self._seek(tp, offset)
            self.ledger.reset(tp, offset, committed[tp])

    async def _seek(self, partition: TP, offset: int) -> None:
        """Seek on the consumer's own thread. Faust calls aiokafka's ``seek`` from the caller's
        thread, which deletes the partition's fetched records while the consumer thread may be
        reading them (``Fetcher.fetched_records``: a ``KeyError`` there crashed a worker in a
        fault run, right after a re-read); on the consumer's loop the two cannot interleave."""
        thread = self._thread

        async def seek_on_thread() -> None:
            thread.seek(partition, offset)

        await thread.call_thread(seek_on_thread)

    async def seek(self, partition: TP, offset: int) -> None:
        await super().seek(partition, offset)
        if self.app.topics.acks_enabled_for(partition.topic):
            self.ledger.reset(partition, offset, self._committed_offset.get(partition))

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        # Faust waits here for the records in flight to finish and commits; the ledger keeps
        # the revoked partitions until then, so what they finished is committed, not redone.
        try:
            await super().on_partitions_revoked(revoked)
        finally:
            self.ledger.drop(revoked)

    # -- acks: Faust's bookkeeping for wait_empty only; commits follow ``done`` ---------------

    def ack(self, message: Message) -> bool:
        """Faust's ack, counted as done for plain agents (``async for value in stream``) only
        when it cannot be one of the acks Faust gives records its streams drop unprocessed: a
        stream drops (and acks) records while flow is suspended or when they were fetched in
        an earlier consumer generation. Such an ack of a processed record is not counted
        either; the record is processed again after the rebalance (at least once)."""
        with ack_lock:
            if message.acked:
                return False
            message.acked = True
            self._unacked_messages.discard(message)
            notify(self._waiting_for_ack)
        app = self.app
        if (
            self._done_by_ack(message.topic)
            and app.flow_control.is_active()
            and message.generation_id == app.consumer_generation_id
        ):
            self.ledger.done(message.tp, message.offset, message)
        return True

    # -- commits ---------------------------------------------------------------------------

    async def force_commit(
        self, topics: TPorTopicSet | None = None, start_new_transaction: bool = True
    ) -> bool:
        await self._reread_stalled()
        return await super().force_commit(topics, start_new_transaction=start_new_transaction)

    async def _reread_stalled(self) -> None:
        """Re-read partitions whose records were fetched and dropped at the end of a
        partition (``OffsetLedger.stalled``)."""
        for tp in self.ledger.partitions():
            try:
                end = self._thread.highwater(tp)
            except Exception:  # no fetch position yet, or not ours any more
                continue
            offset = self.ledger.stalled(tp, end)
            if offset is None:
                continue
            log.warning(
                "%s:%s expects offset %d, the broker has up to %d: re-reading",
                tp.topic, tp.partition, offset, end - 1,
            )  # fmt: skip
            try:
                await self._seek(tp, offset)
            except Exception as exc:
                log.warning("re-read of %s:%s not possible (%r)", tp.topic, tp.partition, exc)

    def _absorb_faust_acks(self) -> None:
        """Faust's compiled stream iterator (``faust._cython.streams``) acks the records of
        plain agents by writing their offsets into the consumer's acked lists itself, not
        through ``ack``; those acks come after processing (it does not ack what it skips), so
        their offsets are done. Records of batch agents are never acked that way."""
        for tp, offsets in self._acked.items():
            if offsets and self._done_by_ack(tp.topic):
                for offset in offsets:
                    self.ledger.done_offset(tp, offset)
            offsets.clear()
        for index in self._acked_index.values():
            index.clear()

    def _filter_tps_with_pending_acks(self, topics: TPorTopicSet | None = None) -> Iterator[TP]:
        self._absorb_faust_acks()
        return (
            tp
            for tp in self.ledger.partitions()
            if topics is None or tp in topics or tp.topic in topics
        )

    def _filter_committable_offsets(self, tps: Any) -> dict[TP, int]:
        offsets = {}
        for tp in tps:
            offset = self.ledger.committable(tp)
            if offset is not None:
                offsets[tp] = offset
        return offsets

    async def _commit_offsets(
        self, offsets: Mapping[TP, int], start_new_transaction: bool = True
    ) -> bool:
        """Commit ``offsets`` once everything produced before is acknowledged (the rule in
        the module docstring): records sent by the stages and the tables' changelog records.
        """
        if self.in_transaction:  # exactly_once: Kafka's transaction carries the rule
            return await super()._commit_offsets(offsets, start_new_transaction)
        assignment = self.assignment()
        committable = {tp: offset for tp, offset in offsets.items() if tp in assignment}
        if not committable:
            return False
        producer = self.app.producer
        try:
            if isinstance(producer, TrackingProducer):
                await producer.wait_delivered()
            else:  # another transport's producer: its flush is the best there is
                await producer.flush()
        except DeliveryFailed as exc:
            log.error("not committing: %s; stopping the worker (its state is rebuilt)", exc)
            await self.crash(exc)
            return False
        did_commit = await self._commit(committable)
        if did_commit:
            for tp, offset in committable.items():
                self.ledger.committed(tp, offset)
            self.app.tables.on_commit(committable)
        self._committed_offset.update(committable)
        self.app.monitor.on_tp_commit(committable)
        return did_commit

    # -- the read loop -----------------------------------------------------------------------

    async def _drain_messages(self, fetcher: ServiceT) -> None:  # pragma: no cover
        """Faust 0.15.3's read loop; the ledger decides about each record of an input topic:
        deliver it, drop it (stale), or seek back and re-read (offsets missing before it)."""
        callback = self.callback
        getmany = self.getmany
        consumer_should_stop = cast(Service, self)._stopped.is_set
        fetcher_should_stop = cast(Service, fetcher)._stopped.is_set
        set_read_offset = self._read_offset.__setitem__
        set_flag = self.diag.set_flag
        unset_flag = self.diag.unset_flag
        acks_enabled_for = self.app.topics.acks_enabled_for
        ledger = self.ledger
        suspend_flow = self.suspend_flow

        yield_every = 100
        num_since_yield = 0
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                set_flag(CONSUMER_FETCHING)
                ait = cast(AsyncIterator[Any], getmany(timeout=1.0))
                reread: set[TP] = set()  # partitions sought back in this batch
                await self.sleep(0)
                if not self.should_stop:
                    async for tp, message in ait:
                        num_since_yield += 1
                        if num_since_yield > yield_every:
                            await asyncio.sleep(0)
                            num_since_yield = 0
                        if tp in reread:
                            continue
                        offset = message.offset
                        if not acks_enabled_for(message.topic):  # changelogs: Faust's way
                            await self.wait_first(callback(message), suspend_flow.wait())
                            set_read_offset(tp, offset)
                            continue
                        verdict = ledger.handover(tp, offset, message)
                        if verdict is Handover.STALE:
                            continue
                        if verdict is Handover.JUMP:
                            reread.add(tp)
                            await self._reread(tp, offset)
                            continue
                        handing = callback(message)
                        result = await self.wait_first(handing, suspend_flow.wait())
                        if handing not in result.done:  # flow suspended or stopping
                            ledger.withdraw(tp, offset, message)
                            reread.add(tp)
                            continue
                        set_read_offset(tp, offset)
                    unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                self.log.info("Consumer shutting down for user cancel.")
                return
            raise
        except Exception as exc:
            self.log.exception("Drain messages raised: %r", exc)
            raise
        finally:
            unset_flag(CONSUMER_FETCHING)

    async def _reread(self, tp: TP, seen: int) -> None:
        """Offsets are missing before ``seen``: fetch ``tp`` again from the one expected. If
        the re-read shows the same jump, the ledger takes it for a real gap."""
        expected = self.ledger.next_offset(tp)
        if expected is None:
            return
        log.warning(
            "offset jump on %s:%s from %d to %d: re-reading from %d",
            tp.topic, tp.partition, expected - 1, seen, expected,
        )  # fmt: skip
        try:
            await self._seek(tp, expected)
        except Exception as exc:  # partition no longer ours: its new owner reads it
            log.warning("re-read of %s:%s not possible (%r)", tp.topic, tp.partition, exc)


class NewsflowTransport(faust_aiokafka.Transport):
    """The aiokafka transport with :class:`LedgerConsumer` and :class:`TrackingProducer`."""

    Consumer = LedgerConsumer
    Producer = TrackingProducer
