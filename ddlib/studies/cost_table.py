"""What a profile costs before it runs: each notebook's GPU-hours, memory and downloads, from the
same estimates that validate its parameters (:func:`ddlib.core.checks.check_cost`, which prices
models with :func:`ddlib.models.cost.model_cost`). ``python -m ddlib.studies cost paper`` prints
it; ``./run_all.sh --profile paper`` shows it and asks before starting."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence

import pandas as pd

from ddlib.core.checks import GPU_FLOP_RATE, recorded_costs
from ddlib.core.data_sources import DOWNLOAD_MB
from ddlib.studies import NOTEBOOKS, notebook_key, profile_module, resolve

COLUMNS = ["notebook", "GPU-hours", "memory of the largest run (GiB)", "downloads (MB)"]


def cost_table(profile: str, notebooks: Sequence[str] = tuple(NOTEBOOKS)) -> pd.DataFrame:
    """One row per notebook: the GPU-hours of all its work at :data:`GPU_FLOP_RATE` (the sum of
    its FLOP estimates, which price disjoint parts), the memory of its largest run (the largest of
    its memory estimates; on a GPU, device memory) and what its datasets download when absent.
    Estimates, not measurements; kept checkpoints are not priced. ``notebooks``: their numbers
    (default: all)."""
    rows = []
    for key in notebooks:
        study = NOTEBOOKS[notebook_key(key)]
        key = notebook_key(key)
        with recorded_costs() as estimates, contextlib.redirect_stdout(io.StringIO()):
            resolve(key, profile)
        datasets = getattr(profile_module(key), "PAPER_DATASETS", ()) if profile == "paper" else ()
        rows.append({
            "notebook": f"{key}_{study}",
            "GPU-hours": sum(e.flop for e in estimates) / GPU_FLOP_RATE / 3600,
            "memory of the largest run (GiB)": max((e.memory_bytes for e in estimates),
                                                   default=0.0) / 2**30,
            "downloads (MB)": sum(DOWNLOAD_MB.get(name, 0.0) for name in datasets),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def cost_text(profile: str, notebooks: Sequence[str] = tuple(NOTEBOOKS)) -> str:
    """:func:`cost_table` as aligned text with a total row and a note on what it is."""
    table = cost_table(profile, notebooks)
    total = {"notebook": "total", "GPU-hours": table["GPU-hours"].sum(),
             "memory of the largest run (GiB)": table["memory of the largest run (GiB)"].max(),
             "downloads (MB)": table["downloads (MB)"].sum()}
    shown = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    body = shown.to_string(index=False, formatters={
        "GPU-hours": "{:,.1f}".format, "memory of the largest run (GiB)": "{:,.1f}".format,
        "downloads (MB)": "{:,.1f}".format})
    return (f"Estimated cost of the {profile!r} profile (estimates from the cost model at "
            f"{GPU_FLOP_RATE:.0e} FLOP/s on one GPU, for the profile's own values (-p / -y overrides "
            f"are not priced); not measured; kept checkpoints not priced):\n"
            f"{body}")
