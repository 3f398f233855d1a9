"""Settings search for notebook 04's ``laptop`` profile: one study per call, printed as table rows.

Usage (in its own run store so the search never touches ``runs/``)::

    DDLIB_RUNS=runs-search .venv/bin/python scripts/search_04.py width width_train_size=1000
    DDLIB_RUNS=runs-search .venv/bin/python scripts/search_04.py architectures epochs=40

``width`` trains the width study and judges its test-error claim (the claim that fails at the
laptop setting; fragmentation and similarity need the planes and are judged by the notebook);
``architectures`` trains the architecture zoo, predicts its planes and judges the three matrix
claims. Every ``name=value`` is a notebook-04 parameter override (value parsed as a Python
literal). The criteria are not parameters of this script: the rows report the verdicts of
``ddlib.studies.decision_regions.claims`` as committed.
"""

from __future__ import annotations

import ast
import sys
import time
from typing import Any

import numpy as np
import pandas as pd

from ddlib.core.claims import ClaimsTable
from ddlib.core.data import load_data
from ddlib.models.zoo import zoo_specs
from ddlib.studies import resolve
from ddlib.studies.decision_regions import claims as nb04_claims
from ddlib.studies.decision_regions import experiment

STUDIES = ("width", "architectures")


def _value(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def width_search(params: Any, claims: ClaimsTable) -> None:
    """Train the width study; print its error curves and judge the test-error peak."""
    dataset = load_data(params.data)
    runs = experiment.train_all(params, experiment.width_configs(
        params, in_channels=dataset.x_test.shape[1], image_size=dataset.x_test.shape[-1],
        num_classes=dataset.num_classes), device="cpu")
    rows = []
    for noise, width in sorted({(n, w) for n, w, _ in runs}):
        keys = [key for key in runs if key[:2] == (noise, width)]
        test = [experiment.final_test_error(runs[key]) for key in keys]
        rows.append({"label_noise": noise, "width": width,
                     "train_error": float(np.mean([experiment.final_train_error(runs[k]) for k in keys])),
                     "test_error": float(np.mean(test)), "test_error_std": float(np.std(test))})
    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    thresholds = experiment.thresholds_by_noise(table, params.interpolation_tolerance)
    nb04_claims.width_curve_peaks(claims, table, thresholds, "test_error", True, "test error peaks",
                                  params.peak_margin, params.data["name"], len(params.width_seeds),
                                  experiment.width_test_outcomes(runs, "cpu"))


def architecture_search(params: Any, claims: ClaimsTable) -> None:
    """Train the zoo, predict its planes; print the matrix and judge the matrix claims."""
    dataset = load_data(params.data)
    specs = zoo_specs(params.zoo_size, in_channels=dataset.x_test.shape[1],
                      image_size=dataset.x_test.shape[-1], num_classes=dataset.num_classes)
    kinds = {label: experiment.family_kind(specs[label]) for label in params.architectures}
    planes, _, plane_spec = experiment.planes_on_test_set(
        dataset, params.data, n_triplets=params.n_triplets, seed=params.triplet_seed,
        resolution=params.resolution, margin=params.margin)
    runs = experiment.train_all(params, experiment.architecture_configs(params, specs), device="cpu")
    predictions = experiment.run_predictions(list(runs.values()), planes, plane_spec,
                                     chunk_size=params.chunk_size, device="cpu")
    print(experiment.architecture_summary(runs, predictions).round(3).to_string())
    pairs = experiment.similarity_pairs_of(runs, predictions, params.architectures)
    matrix = experiment.matrix_of_pairs(pairs)
    print(matrix.round(3).to_string())
    rho, entries = nb04_claims.rank_correlation(
        matrix, nb04_claims.paper_reference_matrix(params.architectures))
    seeds = len(params.seeds)
    nb04_claims.same_architecture_more_similar(claims, pairs, kinds, params.data["name"], seeds)
    nb04_claims.convolutional_models_closer(claims, pairs, kinds, params.data["name"], seeds)
    nb04_claims.matrix_ranks_like_paper(claims, rho, entries, params.data["name"], seeds)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in STUDIES:
        raise SystemExit(f"usage: search_04.py {{{'|'.join(STUDIES)}}} [name=value ...]")
    study, overrides = argv[0], {k: _value(v) for k, v in (a.split("=", 1) for a in argv[1:])}
    params = resolve("04", "laptop", **overrides)
    claims = ClaimsTable("search")
    start = time.perf_counter()
    (width_search if study == "width" else architecture_search)(params, claims)
    print(f"\n## {study} {overrides}  ({(time.perf_counter() - start) / 60:.1f} min)")
    print(claims.frame()[["claim", "measured", "confidence", "holds"]].to_string())


if __name__ == "__main__":
    main(sys.argv[1:])
