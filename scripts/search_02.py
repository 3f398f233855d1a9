"""Settings search for notebook 02's ``laptop`` profile: one row per call, printed as a table row.

Usage (one sweep per call, in its own run store so the search never touches ``runs/``)::

    DDLIB_RUNS=runs-search .venv/bin/python scripts/search_02.py dataset=cifar10-jpeg \
        train_size=1000 epochs=100 "widths=[1,2,4,8,16]"

Every ``name=value`` is a notebook-02 parameter override (value parsed as a Python literal). The
claims' criteria are not parameters of this script: the row reports the verdicts of
``ddlib.studies.convnet_sharpness.claims.add_claims`` as committed.
"""

from __future__ import annotations

import ast
import sys
import time

from ddlib.core.claims import ClaimsTable
from ddlib.studies import resolve
from ddlib.studies.convnet_sharpness import claims as nb02_claims
from ddlib.studies.convnet_sharpness.experiment import sweep_result


def _value(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def main(argv: list[str]) -> None:
    overrides = dict(arg.split("=", 1) for arg in argv)
    overrides = {k: _value(v) for k, v in overrides.items()}
    params = resolve("02", "laptop", **overrides)
    start = time.perf_counter()
    result = sweep_result(params, "main", "cpu")
    seconds = time.perf_counter() - start
    final = result.final.groupby("width")[["train_error", "test_error"]].mean()
    print(f"\n## {overrides}  ({seconds / 60:.1f} min)")
    print("train error", final.train_error.round(3).to_dict())
    print("test error ", final.test_error.round(3).to_dict())
    volumes = result.volumes
    for subset in ("all", "clean", "noisy"):
        rows = volumes[volumes.subset == subset]
        for metric in ("cross_entropy", "jacobian_norm", "hessian_norm"):
            table = rows.groupby(["volume", "width"])[metric].mean().unstack("width").round(3)
            print(f"{subset} {metric}\n{table.to_string()}")
    claims = ClaimsTable("search")
    nb02_claims.add_claims(claims, result, params.interpolation_tolerance, params.peak_margin)
    print(claims.frame()[["claim", "measured", "holds"]].to_string())


if __name__ == "__main__":
    main(sys.argv[1:])
