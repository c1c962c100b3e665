"""WAL checkpoints of a SQLite file, kept off the write path.

SQLite's own checkpoint runs inside the commit that fills the WAL past a threshold, while
that writer holds the write lock: about one commit in seventy then copies megabytes and
syncs the file, and every other writer waits for it (17 ms at the 99th percentile of a
create's commit, against 0.3 ms without). Every connection turns that off
(`wal_autocheckpoint=0`), and each writing process runs a `Checkpointer` instead, of
which one at a time checkpoints the file (the one holding the file lock beside it, see
`Checkpointer`):

- a PASSIVE checkpoint every INTERVAL_SECONDS, beside the writers (it takes no write
  lock): it copies what was committed up to its start. While the WAL grows fast enough
  to reach WAL_FRAMES sooner, at the rate it grew since the last pass, the next pass
  comes then instead (MIN_PAUSE_SECONDS at the soonest), so that how far the WAL runs
  past WAL_FRAMES does not grow with the write rate;
- once the WAL holds WAL_FRAMES, a RESTART checkpoint under the writer lock copies the
  little committed since and waits (RESTART_WAIT_MS at most) for the readers still on
  the WAL, so that the next writer starts it again from its first frame; if a reader
  held it off, it is tried again after RETRY_SECONDS, then less and less often. Without
  it, a WAL under steady reads and writes always has a reader on it, and only ever grows.
  A restart held off is tried once more before the lock is let go: a reader that began
  on frames the first try could not copy holds it off, but by the second try, with no
  frame written between, every frame is copied and readers that begin read the file
  alone, so it waits only for the readers under way. Trying again after the writers
  had their turn would find new frames, and a reader on them, every time.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from contextlib import AbstractContextManager
from pathlib import Path

log = logging.getLogger("sandbox")
INTERVAL_SECONDS = 0.1
WAL_FRAMES = 2048  # 8 MiB of 4 KiB pages: a WAL this long is started again
RESTART_WAIT_MS = 50  # how long a restart waits for readers, holding the writer lock
RETRY_SECONDS = 0.01  # the pause before trying again a restart that readers held off
MIN_PAUSE_SECONDS = 0.005  # the shortest pause between passes while the WAL grows fast


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


def next_pause(frames: int, grown: int, elapsed: float) -> float:
    """The pause before the next pass, the WAL holding `frames` after growing `grown`
    frames in the `elapsed` seconds since the pass before: INTERVAL_SECONDS, or if
    shorter half the time it takes to reach WAL_FRAMES at that rate (a rate may grow:
    a pass comes before the WAL gets long, and once more as it does), MIN_PAUSE_SECONDS
    at least."""
    if grown <= 0 or elapsed <= 0:
        return INTERVAL_SECONDS
    until_long = (WAL_FRAMES - frames) * elapsed / grown
    return max(MIN_PAUSE_SECONDS, min(INTERVAL_SECONDS, until_long / 2))


class Checkpointer:
    """Checkpoints one SQLite file from a daemon thread of the process that writes it.

    `ensure_running` starts the thread (again in a forked child, whose parent's thread
    did not come along); `stop` ends it. Several processes may each run one: the thread
    that holds an exclusive lock on the file beside the database (`.checkpointer`) makes
    the passes, and the others try to take it every INTERVAL_SECONDS, so that when its
    process ends (the kernel lets go of its lock) another takes over. One checkpointer a
    file: each pass of a second would copy again what the first copied since, as often.
    """

    clock = staticmethod(time.monotonic)  # what the pauses between passes are timed by

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

    @property
    def lock_path(self) -> Path:
        """The file whose lock makes its holder the one checkpointer of the database."""
        return self.path.with_name(self.path.name + ".checkpointer")

    def _run(self, stopping: threading.Event) -> None:
        connection = self.connect()
        # Opened here: the lock lives and dies with this thread (a forked child has neither).
        turn = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        mine = False  # whether this thread holds the lock
        pause, held_off = INTERVAL_SECONDS, 0  # held_off: restarts readers held off in a row
        last_frames, last_at = 0, self.clock()  # the WAL's length at the last pass
        try:
            while not stopping.wait(pause):
                pause, started = INTERVAL_SECONDS, self.clock()
                if not mine:
                    try:
                        fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:  # another process checkpoints the file
                        continue
                    mine, last_frames, last_at = True, 0, started
                try:
                    busy, frames, _ = self.checkpoint(connection)
                except sqlite3.Error:  # a busy or vanished file: the next pass tries again
                    log.debug("WAL checkpoint of %s failed", self.path, exc_info=True)
                    continue
                held_off = held_off + 1 if busy and frames >= WAL_FRAMES else 0
                # Shorter than at the last pass: the WAL started again, from no frame.
                grown = frames - last_frames if frames >= last_frames else frames
                if held_off:
                    pause = retry_pause(held_off)
                elif frames < WAL_FRAMES:
                    pause = next_pause(frames, grown, started - last_at)
                else:  # restarted (writers waiting meanwhile): empty from here
                    pause = next_pause(0, grown, started - last_at)
                    frames, started = 0, self.clock()
                last_frames, last_at = frames, started
        finally:
            os.close(turn)  # lets go of the lock
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> tuple[int, int, int]:
        """One pass beside the writers and, once the WAL is long, a restart under the
        writer lock; what the last of them returned (see `copy_wal`)."""
        result = copy_wal(connection)
        if result[1] >= WAL_FRAMES:
            with self.writer_lock:
                result = copy_wal(connection, "RESTART")
                if result[0]:  # held off: once more before writers add frames
                    result = copy_wal(connection, "RESTART")
        self.last = result
        return result
