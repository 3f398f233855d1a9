"""Progress bars that stay quiet in headless runs (``TQDM_DISABLE=1``)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], description: str = "", total: int | None = None,
             leave: bool = False, enabled: bool = True) -> Iterable[T]:
    """Wrap ``items`` in a tqdm bar unless ``enabled`` is False or ``TQDM_DISABLE`` is set."""
    disabled = not enabled or bool(os.environ.get("TQDM_DISABLE"))
    return tqdm(items, desc=description, total=total, leave=leave, disable=disabled)
