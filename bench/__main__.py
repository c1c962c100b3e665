"""`python -m bench [seconds]`: every benchmark, each with its same-run baseline."""

from __future__ import annotations

import sys

from bench import analytics, core


def main() -> None:
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    print("== core: sandbox vs bare Flask on gunicorn (gthread) ==")
    core.main(seconds)
    print("== analytics: 1,000-event batches and metrics over 1,000,000 events (SQLite) ==")
    analytics.main()


if __name__ == "__main__":
    main()
