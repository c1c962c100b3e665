"""WAL checkpoints of a SQLite file, kept off the write path.

SQLite's own checkpoint runs inside the commit that fills the WAL past a threshold, while
that writer holds the write lock: about one commit in seventy then copies megabytes and
syncs the file, and every other writer waits for it (17 ms at the 99th percentile of a
create's commit, against 0.3 ms without). Every connection turns that off
(`wal_autocheckpoint=0`), and each writing process runs a `Checkpointer` instead:

- a PASSIVE checkpoint every INTERVAL_SECONDS, beside the writers (it takes no write
  lock): it copies what was committed up to its start;
- once the WAL holds WAL_FRAMES, a RESTART checkpoint under the writer lock copies the
  little committed since and waits (RESTART_WAIT_MS at most) for the readers still on
  the WAL, so that the next writer starts it again from its first frame; if a reader
  held it off, it is tried again after RETRY_SECONDS, then less and less often. Without
  it, a WAL under steady reads and writes always has a reader on it, and only ever grows.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from contextlib import AbstractContextManager
from pathlib import Path

log = logging.getLogger("sandbox")
INTERVAL_SECONDS = 0.1
WAL_FRAMES = 2048  # 8 MiB of 4 KiB pages: a WAL this long is started again
RESTART_WAIT_MS = 50  # how long a restart waits for readers, holding the writer lock
RETRY_SECONDS = 0.01  # the pause before trying again a restart that readers held off


def copy_wal(connection: sqlite3.Connection, mode: str = "PASSIVE") -> tuple[int, int, int]:
    """One checkpoint: (1 if it could not finish, frames in the WAL, frames copied).

    Frames are -1 when the database is not in WAL mode or another checkpoint runs.
    """
    busy, frames, copied = connection.execute(f"PRAGMA wal_checkpoint({mode})").fetchone()
    return busy, frames, copied


def retry_pause(held_off: int) -> float:
    """The pause before trying again a restart that readers held off `held_off` times in a
    row: RETRY_SECONDS, doubled each time, up to INTERVAL_SECONDS (each try holds the
    writers back while it waits for the readers)."""
    return min(INTERVAL_SECONDS, RETRY_SECONDS * 2 ** (held_off - 1))


class Checkpointer:
    """Checkpoints one SQLite file from a daemon thread of the process that writes it.

    `ensure_running` starts the thread (again in a forked child, whose parent's thread
    did not come along); `stop` ends it. Several processes may each run one: SQLite lets
    one checkpoint run at a time, and a pass that finds another under way does nothing.
    """

    def __init__(self, path: Path, writer_lock: AbstractContextManager[object]) -> None:
        self.path = path
        self.writer_lock = writer_lock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = -1
        self._guard = threading.Lock()
        self.last: tuple[int, int, int] | None = None  # the last pass's copy_wal result

    def ensure_running(self) -> None:
        """Start checkpointing in this process unless it already is."""
        if self._pid == os.getpid() and self._thread is not None:
            return
        with self._guard:
            if self._pid == os.getpid() and self._thread is not None:
                return
            self._stopping = threading.Event()
            # The connection lives in the thread alone: a forked child never holds it.
            self._thread = threading.Thread(
                target=self._run, args=(self._stopping,), name="sqlite-checkpoint", daemon=True
            )
            self._pid = os.getpid()
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread after its pass under way, if it runs in this process."""
        with self._guard:
            thread, self._thread = self._thread, None
            self._stopping.set()
        if thread is not None and self._pid == os.getpid():
            thread.join(timeout=30)

    def connect(self) -> sqlite3.Connection:
        """A connection for checkpoints, waiting RESTART_WAIT_MS at most for readers."""
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout={RESTART_WAIT_MS}")
        return connection

    def _run(self, stopping: threading.Event) -> None:
        connection = self.connect()
        pause, held_off = INTERVAL_SECONDS, 0  # held_off: restarts readers held off in a row
        try:
            while not stopping.wait(pause):
                pause = INTERVAL_SECONDS
                try:
                    busy, frames, _ = self.checkpoint(connection)
                except sqlite3.Error:  # a busy or vanished file: the next pass tries again
                    log.debug("WAL checkpoint of %s failed", self.path, exc_info=True)
                    continue
                held_off = held_off + 1 if busy and frames >= WAL_FRAMES else 0
                if held_off:
                    pause = retry_pause(held_off)
        finally:
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One pass beside the writers and, once the WAL is long, a restart under the
        writer lock; what the last of them returned (see `copy_wal`)."""
        result = copy_wal(connection)
        if result[1] >= WAL_FRAMES:
            with self.writer_lock:
                result = copy_wal(connection, "RESTART")
        self.last = result
        return result
