"""Cross-process primitives for a sandbox on one machine: a writer lock and shared counters.

SQLite lets one writer in at a time, and a writer that finds the database locked sleeps
in steps of 1 to 100 ms before retrying. Queueing writers on a file lock first (which
the kernel hands over at once) keeps that sleeping out of the request path.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


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

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._thread_lock:
            fd = self._descriptor()
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)


SLOT = struct.Struct("<QqQ")  # bucket hash, window, count
SLOTS = 8192
PROBES = 64


class SharedCounters:
    """Per-window counters in a memory-mapped file shared by every process of the sandbox.

    Buckets are hashed into a fixed table with linear probing; a slot whose window has
    passed is reused. Every update holds an exclusive flock on the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = WriterLock(path)
        self._map: mmap.mmap | None = None
        self._pid = -1

    def _table(self) -> mmap.mmap:
        if self._map is None or self._pid != os.getpid():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                if os.fstat(fd).st_size < SLOT.size * SLOTS:
                    os.ftruncate(fd, SLOT.size * SLOTS)
                self._map = mmap.mmap(fd, SLOT.size * SLOTS)
            finally:
                os.close(fd)
            self._pid = os.getpid()
        return self._map

    def increment(self, bucket: str, window: int) -> int:
        """Add one to `bucket` in `window`; the new count."""
        digest = (
            int.from_bytes(hashlib.blake2b(bucket.encode(), digest_size=8).digest(), "little") or 1
        )
        with self._lock.held():
            table = self._table()
            start = digest % SLOTS
            reusable = None
            for probe in range(PROBES):
                offset = ((start + probe) % SLOTS) * SLOT.size
                owner, slot_window, count = SLOT.unpack_from(table, offset)
                if owner == digest and slot_window == window:
                    SLOT.pack_into(table, offset, digest, window, count + 1)
                    return count + 1
                if reusable is None and (owner == 0 or slot_window < window - 1):
                    reusable = offset
            if reusable is None:  # a full neighbourhood: take the first slot
                reusable = start * SLOT.size
            SLOT.pack_into(table, reusable, digest, window, 1)
            return 1


def sidecar(database_path: str, suffix: str) -> Path:
    """A file beside a SQLite database, or in the temp folder for an in-memory one."""
    if database_path in ("", ":memory:"):
        import tempfile

        token = hashlib.sha1(f"{os.getpid()}-{id(object())}".encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"sandbox-{token}{suffix}"
    return Path(database_path).with_name(Path(database_path).name + suffix)
