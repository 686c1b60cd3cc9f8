"""A stage run in a thread while the test removes a node; its error handed back."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def in_background(
    fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[threading.Thread, list]:
    """Start ``fn(*args, **kwargs)`` in a thread; returns it and the list its error lands in."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn(*args, **kwargs)
        except BaseException as exc:  # handed to the test thread
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors
