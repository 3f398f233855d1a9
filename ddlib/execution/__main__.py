"""Command line for ``run_all.sh``: check an executor choice and print its options as YAML.

    python -m ddlib.execution options slurm partition=gpu gpus_per_task=1
        -> checks them like validate_executor (exit 2 with the message when not allowed) and
           prints the YAML mapping to pass as the notebooks' ``executor_options``
    python -m ddlib.execution help slurm
        -> the executor's options, their defaults and meanings
    python -m ddlib.execution share BOARD THREADS
        -> a helper on an idle lane: trains other processes' published sweep runs with THREADS
           torch threads until BOARD/stop exists (:mod:`ddlib.execution.sharing`)

Values are read as YAML scalars or lists: ``cpus_per_task=4`` is an integer, ``setup=[a, b]`` a
list, ``partition=gpu`` a string.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

from ddlib.execution import validate_executor
from ddlib.execution.options import check_executor_name, describe

USAGE = ("usage: python -m ddlib.execution options EXECUTOR [KEY=VALUE ...] | help EXECUTOR | "
         "share BOARD THREADS")


def parse_pairs(pairs: list[str]) -> dict[str, object]:
    """``["key=value", ...]`` -> ``{key: yaml value}``; raises ValueError naming a bad pair."""
    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise ValueError(f"--executor-opt {pair!r} is not allowed; use KEY=VALUE, e.g. "
                             "partition=gpu")
        if key in options:
            raise ValueError(f"--executor-opt {key} is given twice")
        try:
            options[key] = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as error:
            raise ValueError(f"--executor-opt {pair!r}: the value is not valid YAML ({error})") from None
    return options


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[0] == "share" and argv[2].isdigit():
        from ddlib.execution.sharing import help_sweeps

        trained = help_sweeps(Path(argv[1]), threads=int(argv[2]))
        print(f"helper: trained {trained} run(s) of other notebooks' sweeps")
        return 0
    if len(argv) < 2 or argv[0] not in ("options", "help"):
        print(USAGE, file=sys.stderr)
        return 2
    try:
        if argv[0] == "help":
            check_executor_name(argv[1])
            print(describe(argv[1]) or f"executor {argv[1]!r} takes no options")
            return 0
        options = parse_pairs(argv[2:])
        validate_executor(argv[1], options)
    except (ValueError, ImportError) as error:
        print(f"run_all.sh: {error}", file=sys.stderr)
        return 2
    print(yaml.safe_dump(options, default_flow_style=True, width=10_000).strip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
