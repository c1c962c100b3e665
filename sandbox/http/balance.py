"""Connections spread evenly over the workers of one server.

A worker serves one request at a time, so the connections it holds take turns: a client
that keeps a few connections alive (a load test, a test suite's pool) waits longest on
the worker that took the most. Given a listening socket each (SO_REUSEPORT), wrk's
eight connections split over two workers 5/3 or worse in 13 of 14 runs, and the 99th
percentile of the bigger share's latency follows its length (measured served: 15–20 ms
at 5/3, 13–16 ms at 4/4).

The workers share one listening socket, and each accepts from it only while it holds
no more connections than the fewest any other live worker holds; the kernel keeps a
new connection in the socket's queue until a worker whose turn it is takes it. Each
worker publishes its count in a slot of memory shared by the master and every worker
(forked from it): the count whenever it changes, and a beat each time its main thread
polls, so a worker whose beat has stopped (wedged, or gone before the master freed its
slot) no longer holds the others back. A worker that stops accepting wakes the others
(a pipe per slot, which each worker polls beside its sockets): the one whose turn it
now is may have stopped listening while it held more.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from collections.abc import Iterable

SLOT = struct.Struct("<qd")  # connections held (FREE: no worker), its last beat
FREE = -1
STALE_SECONDS = 5.0  # a worker that has not polled for this long is left out


class Shares:
    """Each worker's count of connections, in memory its forked children share."""

    clock = staticmethod(time.monotonic)  # one clock for every process of the machine

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._memory = mmap.mmap(-1, slots * SLOT.size)  # anonymous and shared on fork
        self._wakers = [os.pipe() for _ in range(slots)]  # (read, write) ends, per slot
        for read, write in self._wakers:
            os.set_blocking(read, False)
            os.set_blocking(write, False)
        for slot in range(slots):
            self.release(slot)

    def assign(self, taken: Iterable[int | None]) -> int | None:
        """The lowest slot none of `taken` holds (the master's choice for a new worker),
        marked held; None when every slot is taken (that worker then always accepts)."""
        held = set(taken)
        slot = next((s for s in range(self.slots) if s not in held), None)
        if slot is not None:
            self.publish(slot, 0)
        return slot

    def publish(self, slot: int, connections: int) -> None:
        """Record that the worker in `slot` holds `connections`, and beat."""
        SLOT.pack_into(self._memory, slot * SLOT.size, connections, self.clock())

    def release(self, slot: int) -> None:
        """Free `slot`: its worker is gone or stopping, and counts no more."""
        SLOT.pack_into(self._memory, slot * SLOT.size, FREE, 0.0)

    def turn(self, slot: int, connections: int) -> bool:
        """Whether the worker in `slot`, holding `connections`, may accept one more: it
        holds no more than any other live worker."""
        now = self.clock()
        for other, (count, beat) in enumerate(SLOT.iter_unpack(self._memory)):
            if other != slot and count != FREE and count < connections:
                if now - beat < STALE_SECONDS:
                    return False
        return True

    def waker(self, slot: int) -> int:
        """The descriptor that turns readable when another worker wakes `slot`'s."""
        return self._wakers[slot][0]

    def woken(self, slot: int) -> None:
        """Take the wake-ups sent to `slot`'s worker."""
        try:
            while os.read(self._wakers[slot][0], 64):
                pass
        except BlockingIOError:
            pass

    def wake_others(self, slot: int) -> None:
        """Wake every worker but `slot`'s to look again whether it is its turn."""
        counts = [count for count, _ in SLOT.iter_unpack(self._memory)]
        for other, (_, write) in enumerate(self._wakers):
            if other != slot and counts[other] != FREE:
                try:
                    os.write(write, b"\0")
                except BlockingIOError:  # woken already, and not yet awake
                    pass

    def close(self) -> None:
        """Close the pipes (the memory goes with the last process holding it)."""
        for read, write in self._wakers:
            os.close(read)
            os.close(write)
        self._wakers = []
