"""The listen cursor against a simulated sandbox whose writes commit out of order."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.devtools.cursor import Cursor


@dataclass(frozen=True)
class Recorded:
    """An event at `position` in the sandbox's order, visible from `committed` on."""

    id: str
    position: int
    committed: float


def answer(events: list[Recorded], anchor: str | None, now: float) -> list[dict[str, str]]:
    """What `listWebhookEvents?after=anchor` answers at `now`, oldest first (without an
    anchor: every visible event)."""
    visible = sorted((e for e in events if e.committed <= now), key=lambda e: e.position)
    if anchor is not None:
        start = next(e.position for e in events if e.id == anchor)
        visible = [e for e in visible if e.position > start]
    return [{"id": e.id, "type": "contact.created"} for e in visible]


def follow(
    events: list[Recorded], polls: list[float], settle: float, latency: float = 0.01
) -> list[str]:
    """The ids a cursor starting with no anchor takes, poll after poll, in order."""
    cursor = Cursor(None, settle_seconds=settle)
    taken: list[str] = []
    for at in polls:
        answered = answer(events, cursor.anchor, at)
        fresh = cursor.take(answered, asked_at=at, answered_at=at + latency)
        taken.extend(e["id"] for e in fresh)
    return taken


# B is recorded after A but its transaction commits first; a poll in between sees B alone.
A_COMMITS_LATE = [Recorded("wev_A", 1, committed=2.0), Recorded("wev_B", 2, committed=0.5)]
POLLS = [1.0, 1.5, 2.5, 3.0, 10.0, 20.0]


def test_an_event_committed_after_a_later_one_was_seen_is_taken() -> None:
    assert follow(A_COMMITS_LATE, POLLS, settle=5.0) == ["wev_B", "wev_A"]


def test_asking_after_the_newest_event_seen_would_lose_it() -> None:
    """Why the anchor lags: with no settling time the cursor skips A for good."""
    assert follow(A_COMMITS_LATE, POLLS, settle=0.0) == ["wev_B"]


def test_events_answered_again_are_taken_once() -> None:
    events = [Recorded(f"wev_{i}", i, committed=0.1 * i) for i in range(10)]
    polls = [0.05 * n for n in range(200)]
    assert follow(events, polls, settle=3.0) == [e.id for e in events]


def test_the_anchor_moves_once_events_settle_and_forgets_what_is_behind_it() -> None:
    events = [Recorded(f"wev_{i}", i, committed=0.0) for i in range(3)]
    cursor = Cursor("wev_start", settle_seconds=5.0)
    cursor.take([{"id": e.id} for e in events], asked_at=1.0, answered_at=1.1)
    assert (cursor.anchor, cursor.pending) == ("wev_start", 3)  # nothing settled yet
    assert cursor.take([{"id": e.id} for e in events], asked_at=7.0, answered_at=7.1) == []
    assert (cursor.anchor, cursor.pending) == ("wev_2", 0)


def test_a_duplicate_within_one_answer_is_taken_once() -> None:
    cursor = Cursor("wev_start")
    fresh = cursor.take([{"id": "wev_1"}, {"id": "wev_1"}], asked_at=0.0, answered_at=0.1)
    assert [e["id"] for e in fresh] == ["wev_1"]


def test_restart_follows_from_the_new_anchor_only() -> None:
    cursor = Cursor("wev_old")
    cursor.take([{"id": "wev_1"}], asked_at=0.0, answered_at=0.1)
    cursor.restart("wev_new")
    assert (cursor.anchor, cursor.pending) == ("wev_new", 0)
    assert [e["id"] for e in cursor.take([{"id": "wev_1"}], asked_at=1, answered_at=1)] == ["wev_1"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=0.5),  # time since the previous event was recorded
            st.floats(min_value=0, max_value=2.0),  # how long its transaction takes to commit
        ),
        min_size=1,
        max_size=40,
    ),
    st.floats(min_value=0.05, max_value=1.0),  # the poll interval
    st.floats(min_value=0.0, max_value=0.2),  # a poll's round trip
)
def test_every_event_is_taken_exactly_once_when_commits_settle_within_the_window(
    timings: list[tuple[float, float]], interval: float, latency: float
) -> None:
    events, recorded_at = [], 0.0
    for position, (gap, commit_delay) in enumerate(timings):
        recorded_at += gap
        events.append(Recorded(f"wev_{position}", position, recorded_at + commit_delay))
    last = max(e.committed for e in events)
    polls = [n * interval for n in range(int((last + 10) / interval) + 2)]
    taken = follow(events, polls, settle=2.5, latency=latency)
    assert sorted(taken) == sorted(e.id for e in events)
    assert len(taken) == len(set(taken))
