"""The claims table: each paper's qualitative claims checked on the numbers a notebook produced.

A claim is a sentence, the value measured for it, the criterion it is judged by, and whether it
holds. Claims are computed from data; nothing here knows any expected answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ddlib.core.paths import figures_dir
from ddlib.core.store import atomic_write_bytes

COLUMNS = ["notebook", "claim", "measured", "criterion", "holds"]


@dataclass
class ClaimsTable:
    """Collects claims of one notebook; ``save()`` writes ``claims.csv`` and ``claims.md``."""

    notebook: str
    rows: list[dict] = field(default_factory=list)

    def add(self, claim: str, measured: object, criterion: str, holds: bool) -> bool:
        """Record one claim; returns ``holds`` so that a notebook can print or branch on it."""
        if not isinstance(holds, bool):
            holds = bool(holds)
        self.rows.append({"notebook": self.notebook, "claim": claim, "measured": str(measured),
                          "criterion": criterion, "holds": holds})
        return holds

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def to_markdown(self) -> str:
        lines = ["| claim | measured | criterion | holds |", "|---|---|---|---|"]
        for row in self.rows:
            cells = [row["claim"], row["measured"], row["criterion"],
                     "yes" if row["holds"] else "**no**"]
            lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
        return "\n".join(lines) + "\n"

    def save(self) -> None:
        folder = figures_dir(self.notebook)
        atomic_write_bytes(folder / "claims.csv", self.frame().to_csv(index=False).encode())
        header = f"# Claims checked by notebook {self.notebook}\n\n"
        atomic_write_bytes(folder / "claims.md", (header + self.to_markdown()).encode())

    def _repr_html_(self) -> str:
        return self.frame().drop(columns="notebook").to_html(index=False)


def gather(claim_files: list[Path], out_csv: Path, out_md: Path, profile: str) -> pd.DataFrame:
    """Concatenate every notebook's ``claims.csv`` into one report (CSV and Markdown)."""
    frames = [pd.read_csv(path) for path in claim_files if Path(path).exists()]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=COLUMNS)
    atomic_write_bytes(out_csv, table.to_csv(index=False).encode())
    held = int(table["holds"].astype(bool).sum()) if len(table) else 0
    lines = [f"# Claims report, profile `{profile}`", "",
             f"{held} of {len(table)} claims hold.", ""]
    for notebook, rows in table.groupby("notebook", sort=True):
        lines += [f"## {notebook}", "", "| claim | measured | criterion | holds |", "|---|---|---|---|"]
        for _, row in rows.iterrows():
            mark = "yes" if bool(row["holds"]) else "**no**"
            lines.append(f"| {row['claim']} | {row['measured']} | {row['criterion']} | {mark} |")
        lines.append("")
    atomic_write_bytes(out_md, "\n".join(lines).encode())
    return table


def _main(argv: list[str]) -> int:
    """``python -m ddlib.core.claims <profile> <notebook> ...``: gather claims into reports/<profile>/."""
    from ddlib.core.paths import reports_dir

    profile, *notebooks = argv
    out = reports_dir(profile)
    table = gather([figures_dir(nb) / "claims.csv" for nb in notebooks], out / "claims.csv",
                   out / "claims.md", profile)
    held = int(table["holds"].astype(bool).sum()) if len(table) else 0
    print(f"claims: {held} of {len(table)} hold -> {out / 'claims.md'}")
    return 0


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
