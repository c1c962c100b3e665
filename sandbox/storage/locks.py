"""Cross-process primitives for a sandbox on one machine: a writer lock and shared counters.

SQLite lets one writer in at a time, and a writer that finds the database locked sleeps
in steps of 1 to 100 ms before retrying. Queueing writers on a file lock first (which
the kernel hands over at once) keeps that sleeping out of the request path.
"""

from __future__ import annotations

import fcntl
import hashlib
import itertools
import mmap
import os
import struct
import threading
from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import compress
from pathlib import Path
from typing import NamedTuple


class WriterLock:
    """Mutual exclusion between the threads of every process that opens the same path."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = -1

    def _descriptor(self) -> int:
        # A forked child must not share its parent's file description: flock is per description.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            self._pid = os.getpid()
        return self._fd

    def held(self) -> WriterLock:
        """The lock as a context manager: held by the calling thread for the block."""
        return self

    # A class-based context manager: `contextlib.contextmanager` costs 1.5 µs a use, and the
    # rate counters take this lock on every request.
    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        try:
            fcntl.flock(self._descriptor(), fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()


HEADER = struct.Struct("<8sQ")  # layout tag, entries
LAYOUT = b"sbxrate3"
RING = 64  # one-second cells per bucket; a window spans at most this many seconds
ENTRY_HEAD = struct.Struct("<QqQq")  # bucket hash, newest second, requests counted, oldest second
CELL = struct.Struct("<I")
CELLS = struct.Struct(f"<{RING}I")  # requests per second: second s in cell s % RING
ENTRY = ENTRY_HEAD.size + CELLS.size
ENTRIES = 4096
PROBES = 64
FILE_SIZE = HEADER.size + ENTRIES * ENTRY


class Tally(NamedTuple):
    """What one request found in its bucket (itself included if admitted).

    `used` requests are counted in the window of the request stamped `second`; `freeing`
    is the stamp whose leaving the window next lets in more than now (see `freeing_second`).
    """

    admitted: bool
    second: int
    used: int
    freeing: int


def freeing_second(first: int, counts: Sequence[int], limit: int) -> int:
    """The stamp whose leaving the window first lets in one more request than now.

    `counts[i]` counts the requests stamped `first + i`. While fewer than `limit` are
    counted, the oldest counted stamp; otherwise the newest whose leaving (with every
    older one) brings the count under `limit`. `first` if nothing is counted.
    """
    left = sum(counts)
    for offset, count in enumerate(counts):
        if count:
            left -= count
            if left < limit:
                return first + offset
    return first


@lru_cache(maxsize=4096)
def bucket_hash(bucket: str) -> int:
    """A bucket's 64-bit hash, never 0 (0 marks a free entry)."""
    return int.from_bytes(hashlib.blake2b(bucket.encode(), digest_size=8).digest(), "little") or 1


class SharedCounters:
    """Per-bucket, per-second request counts in a memory-mapped file shared by every process.

    Each bucket owns one entry (found by hashing, with linear probing): the newest second
    it counted, the requests counted in the window ending there and the oldest second
    among them, and a ring of one-second cells, zero outside the window. An entry whose
    counts have all left the window is reused; when a neighbourhood is full the stalest
    entry is taken (its bucket starts again from zero). Every hit holds an exclusive flock
    on the file and reads the clock under it, so stamps follow the order of the hits. A
    file of another layout (an older sandbox) is cleared on first use.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = WriterLock(path)
        self._map: mmap.mmap | None = None
        self._pid = -1

    def _table(self) -> mmap.mmap:
        """The mapped file (mapped again in a forked child); only called with the lock held."""
        if self._map is None or self._pid != os.getpid():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if os.fstat(fd).st_size < FILE_SIZE:
                    os.ftruncate(fd, FILE_SIZE)
                table = mmap.mmap(fd, FILE_SIZE)
            finally:
                os.close(fd)
            if HEADER.unpack_from(table, 0) != (LAYOUT, ENTRIES):
                table[:] = bytes(FILE_SIZE)
                HEADER.pack_into(table, 0, LAYOUT, ENTRIES)
            self._map, self._pid = table, os.getpid()
        return self._map

    def hit(self, bucket: str, limit: int, span: int, clock: Callable[[], float]) -> Tally:
        """Count one request of `bucket` now if fewer than `limit` are counted in its window.

        A request stamped second `s` counts in the windows of the stamps `s` to
        `s + span - 1` (`span` at most `RING`). The check and the count are one step under
        the file lock, so concurrent hits never together pass the limit; a refused request
        is not counted. A clock set back less than `span` seconds stamps at the newest
        second counted, so a request never counts for less than `span` seconds; set back
        further, the bucket starts again from zero.
        """
        digest = bucket_hash(bucket)
        with self._lock:
            table = self._table()
            second = int(clock())
            offset, owner, newest, used, oldest = self._entry(table, digest, second, span)
            if owner != digest or second <= newest - span:  # new here, or the clock went back
                newest, used, oldest = self._advance(table, offset, digest, second, span, None)
            elif second > newest:
                newest, used, oldest = self._advance(table, offset, digest, second, span, newest)
            admitted = used < limit
            if admitted:
                cell = offset + ENTRY_HEAD.size + (newest % RING) * CELL.size
                CELL.pack_into(table, cell, CELL.unpack_from(table, cell)[0] + 1)
                used += 1
                if used == 1:
                    oldest = newest
                ENTRY_HEAD.pack_into(table, offset, digest, newest, used, oldest)
            if used < limit:
                freeing = oldest
            else:
                first = newest - span + 1
                start = first % RING
                cells = CELLS.unpack_from(table, offset + ENTRY_HEAD.size)
                freeing = freeing_second(first, [*cells[start:], *cells[:start]][:span], limit)
            return Tally(admitted, second, used, freeing)

    @staticmethod
    def _advance(
        table: mmap.mmap, offset: int, digest: int, second: int, span: int, newest: int | None
    ) -> tuple[int, int, int]:
        """Move the entry's window to end at `second`, keeping the counts still inside it.

        `newest` None starts the entry empty. Returns (newest, used, oldest) as written.
        """
        kept = [0] * RING
        if newest is not None:
            cells = CELLS.unpack_from(table, offset + ENTRY_HEAD.size)
            for stamp in range(max(second - span + 1, newest - RING + 1), newest + 1):
                kept[stamp % RING] = cells[stamp % RING]
        first = second - span + 1
        start = first % RING
        used = sum(kept)
        oldest = next(compress(itertools.count(first), [*kept[start:], *kept[:start]]), second)
        ENTRY_HEAD.pack_into(table, offset, digest, second, used, oldest)
        CELLS.pack_into(table, offset + ENTRY_HEAD.size, *kept)
        return second, used, oldest

    @staticmethod
    def _entry(
        table: mmap.mmap, digest: int, second: int, span: int
    ) -> tuple[int, int, int, int, int]:
        """(offset, *head) of `digest`'s entry, or of the entry it may take over."""
        start = digest % ENTRIES
        free: tuple[int, int, int, int, int] | None = None
        stalest: tuple[int, int, int, int, int] | None = None
        for probe in range(PROBES):
            offset = HEADER.size + ((start + probe) % ENTRIES) * ENTRY
            head = ENTRY_HEAD.unpack_from(table, offset)
            if head[0] == digest:
                return (offset, *head)
            if head[0] == 0:  # never used: no bucket was placed past it
                return free or (offset, *head)
            if free is None and head[1] <= second - span:
                free = (offset, *head)
            if stalest is None or head[1] < stalest[2]:
                stalest = (offset, *head)
        found = free or stalest
        assert found is not None, "PROBES > 0: some entry was probed"
        return found


def sidecar(database_path: str, suffix: str) -> Path:
    """A file beside a SQLite database, or in the temp folder for an in-memory one."""
    if database_path in ("", ":memory:"):
        import tempfile

        token = hashlib.sha1(f"{os.getpid()}-{id(object())}".encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"sandbox-{token}{suffix}"
    return Path(database_path).with_name(Path(database_path).name + suffix)
