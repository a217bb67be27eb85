"""Keeping rate-limit tests clear of their windows' edges."""

from __future__ import annotations

import time


def clear_of_a_window_edge(window: float, margin: float) -> None:
    """Wait until the next edge of `window`-second windows (aligned on the epoch, as the
    `limits` library aligns them) is at least `margin` seconds away.

    A sliding window counter weighs the previous window's count by how much of it still
    overlaps, rounded down: 3 hits counted just before an edge weigh 2.99, floored to 2, just
    after it, so a test that counts up to a limit across an edge would see one more attempt
    let through. Every minute edge is also a 15-minute and an hour edge."""
    to_edge = window - time.time() % window
    if to_edge < margin:
        time.sleep(to_edge + 0.25)
