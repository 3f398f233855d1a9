"""The claims table: each paper's qualitative claims checked on the numbers a notebook produced.

A claim is a sentence, its role (:data:`ROLES`), the dataset and the number of seeds (or repeats)
its numbers come from, the value measured for it, a seeded confidence measure where the claim rests
on a difference, the criterion it is judged by, and whether it holds. Claims are computed from
data; nothing here knows any expected answer.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ddlib.core.paths import is_rehearsal_output, rehearsing
from ddlib.core.store import atomic_write_bytes

COLUMNS = ["notebook", "claim", "role", "dataset", "seeds", "measured", "confidence", "criterion",
           "holds", "rule"]
# A headline claim is stated in the paper's abstract, a contribution bullet or a figure caption's
# main sentence; a secondary one elsewhere in its text. An implementation check is no claim of the
# paper (counted apart from the reproduced claims): an identity that only a numerical bug can
# break, or an agreement with numbers the paper prints (notebook 04's similarity matrix).
ROLES = ("headline", "secondary", "implementation check")
# the columns of a notebook's own table (the notebook is its title; the rule is in the CSV)
SHOWN = [column for column in COLUMNS if column not in ("notebook", "rule")]
REHEARSAL_PREFIX = "[rehearsal] "  # how every claim saved by a rehearsal begins
NO_BAND = "1 seed, no band"  # the confidence of a single-seed claim that rests on a difference


def band(label: str, values: Sequence[float]) -> str:
    """``"<label> mean ± std"`` over seeds (population std, as :func:`ddlib.analysis.seed_bands`)."""
    finite = [float(v) for v in values if not math.isnan(float(v))]
    if not finite:
        return f"{label} n/a"
    mean = sum(finite) / len(finite)
    std = math.sqrt(sum((v - mean) ** 2 for v in finite) / len(finite))
    return f"{label} {mean:.3g} ± {std:.2g}"


@dataclass
class ClaimsTable:
    """Collects claims of one notebook; ``save(folder)`` writes ``claims.csv`` and ``claims.md``
    (a notebook saves into its figures folder, :func:`ddlib.core.paths.figures_dir`)."""

    notebook: str
    rows: list[dict] = field(default_factory=list)

    def add(self, claim: str, measured: object, criterion: str, holds: bool, *, role: str,
            dataset: str, seeds: int, confidence: str = "") -> bool:
        """Record one claim; returns ``holds`` so that a notebook can print or branch on it.

        ``role`` is one of :data:`ROLES`;
        ``dataset`` names the data the numbers come from and ``seeds`` how many seeds (or seeded
        repeats) they pool; ``confidence`` is a seed band or seeded bootstrap interval when the
        claim rests on a difference, ``"1 seed, no band"`` (:data:`NO_BAND`) for a single seed, and
        ``""`` when the claim does not rest on a difference. The row's ``rule`` is the public function
        of a study's ``claims`` module that added it (:func:`_calling_rule`): the name
        ``docs/claims.md`` maps the papers' figures to.
        """
        if role not in ROLES:
            raise ValueError(f"role={role!r} is not allowed; use one of {list(ROLES)}")
        if not isinstance(dataset, str) or not dataset.strip():
            raise ValueError(f"dataset={dataset!r} is not allowed; name the dataset the claim is "
                             "measured on (e.g. the data spec's name)")
        if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
            raise ValueError(f"seeds={seeds!r} is not allowed; use the number of seeds (an int >= 1)")
        if not isinstance(confidence, str):
            raise ValueError(f"confidence={confidence!r} is not allowed; use a string ('' for none)")
        if not isinstance(holds, bool):
            holds = bool(holds)
        if rehearsing() and not claim.startswith(REHEARSAL_PREFIX):
            claim = REHEARSAL_PREFIX + claim  # shown as a rehearsal in the notebook too
        self.rows.append({"notebook": self.notebook, "claim": claim, "role": role, "dataset": dataset,
                          "seeds": seeds, "measured": str(measured), "confidence": confidence,
                          "criterion": criterion, "holds": holds, "rule": _calling_rule()})
        return holds

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def to_markdown(self) -> str:
        return "\n".join(markdown_rows(self.rows)) + "\n"

    def save(self, folder: Path) -> None:
        """Write ``claims.csv`` and ``claims.md`` into ``folder``; under the rehearsal's output name
        every claim reads "[rehearsal] ..." and the title says so (its verdicts mean nothing)."""
        rows = self.rows
        header = f"# Claims checked by notebook {self.notebook}\n\n"
        if is_rehearsal_output(folder):
            rows = [row if row["claim"].startswith(REHEARSAL_PREFIX)
                    else {**row, "claim": f"{REHEARSAL_PREFIX}{row['claim']}"} for row in rows]
            header = (f"# Claims of notebook {self.notebook}: REHEARSAL (toy sizes, synthetic data "
                      "where missing; the verdicts are not results)\n\n")
        frame = pd.DataFrame(rows, columns=COLUMNS)
        atomic_write_bytes(folder / "claims.csv", frame.to_csv(index=False).encode())
        atomic_write_bytes(folder / "claims.md", (header + "\n".join(markdown_rows(rows)) + "\n").encode())

    def _repr_html_(self) -> str:
        return self.frame().drop(columns="notebook").to_html(index=False)


def _calling_rule() -> str:
    """The innermost public function of a ``ddlib.studies.<study>.claims`` module on the call stack
    (private helpers that add rows on a rule's behalf are skipped); "" when there is none."""
    frame = sys._getframe(2)
    while frame is not None:
        module, name = frame.f_globals.get("__name__", ""), frame.f_code.co_name
        if module.startswith("ddlib.studies.") and module.endswith(".claims") and \
                not name.startswith("_"):
            return name
        frame = frame.f_back
    return ""


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""  # an empty confidence read back from a CSV is NaN
    return str(value).replace("|", "\\|")


def markdown_rows(rows: Sequence[dict]) -> list[str]:
    lines = ["| " + " | ".join(SHOWN) + " |", "|" + "---|" * len(SHOWN)]
    for row in rows:
        cells = [_cell(row[c]) for c in SHOWN[:-1]] + ["yes" if bool(row["holds"]) else "**no**"]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
