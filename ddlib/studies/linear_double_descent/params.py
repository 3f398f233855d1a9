"""Parameters of notebook 01 (linear-regression double descent, Schaeffer et al.; docs/papers.md §1)."""

_ADVERSARIAL = [0.0, 0.1, 0.316, 1.0, 3.16, 10.0, 31.6]
_CUTOFFS = [0.001, 0.00316, 0.01, 0.0316, 0.1, 0.316, 1.0]  # logspace(-3, 0, 7)
_PAPER_POLY = list(range(1, 26)) + [30, 40, 50, 100, 200]

_COMMON = {
    "optional_datasets": ["california-housing", "who-life-expectancy"],
    "max_train_size": 39,
    "repeats": 50,
    "cutoffs": _CUTOFFS,
    "claim_cutoff": {"diabetes": 0.1, "student-teacher": 1.0, "california-housing": 1.0,
                     "who-life-expectancy": 1.0},
    "subspace_ranks_real": list(range(1, 11)),
    "subspace_ranks_student_teacher": [5, 10, 15, 20, 25],
    "adversarial_scales": _ADVERSARIAL,
    "polynomial_degrees": _PAPER_POLY,
    "polynomial_repeats": 30,
    "gaussian_sizes": list(range(1, 11)) + [25, 100],
    "gaussian_repeats": 200,
}

PROFILES = {
    "smoke": {
        "datasets": ["diabetes", "student-teacher"],
        **_COMMON,
        "repeats": 8,
        "polynomial_degrees": [1, 5, 10, 13, 14, 15, 16, 20, 25, 50, 200],
        "polynomial_repeats": 5,
        "gaussian_sizes": [1, 2, 3, 4, 5, 10, 25, 100],
        "gaussian_repeats": 20,
        "allow_download": False,
    },
    "laptop": {"datasets": ["diabetes", "student-teacher"], **_COMMON, "allow_download": False},
    "paper": {
        "datasets": ["diabetes", "student-teacher", "california-housing"],
        **_COMMON,
        "optional_datasets": ["who-life-expectancy"],
        "allow_download": True,
    },
}

DESCRIPTIONS = {
    "datasets": "regression datasets that must be available (error if missing)",
    "optional_datasets": "datasets used only when their files are already in data/",
    "max_train_size": "largest training-set size N (N = 1..max) [points]",
    "repeats": "random train/test splits per N (reference convention, seeds 0..repeats-1)",
    "cutoffs": "ablation 1: absolute singular-value cut-offs c",
    "claim_cutoff": "cut-off c per dataset used by the 'peak removed' claim",
    "subspace_ranks_real": "ablation 2: top-k right singular vectors kept, real datasets",
    "subspace_ranks_student_teacher": "ablation 2: top-k kept, Student-Teacher",
    "adversarial_scales": "a in x_test + a v_last and y_train + a u_last",
    "polynomial_degrees": "Legendre degrees p of the polynomial intuition figure",
    "polynomial_repeats": "fresh draws of the 15 training points per degree",
    "gaussian_sizes": "sample counts n of the 3D Gaussian singular-value picture",
    "gaussian_repeats": "draws per n of the 3D Gaussian picture",
    "allow_download": "whether sklearn may download california-housing into data/",
}


def validate(params: dict) -> None:
    """Reject unknown datasets and sweeps that cannot reach every dataset's threshold N = D."""
    from ddlib.core.data import FEATURE_COUNTS, REGRESSION_DATASETS

    for key in ("datasets", "optional_datasets"):
        unknown = [d for d in params[key] if d not in REGRESSION_DATASETS]
        if unknown:
            raise ValueError(f"{key}: unknown dataset(s) {unknown}; allowed: {list(REGRESSION_DATASETS)}")
    largest_d = max(FEATURE_COUNTS[d] for d in [*params["datasets"], *params["optional_datasets"]])
    if not largest_d < params["max_train_size"] <= 200:
        raise ValueError(f"max_train_size={params['max_train_size']} must lie in {largest_d + 1}..200 "
                         f"(beyond the largest number of features D = {largest_d})")
    if params["repeats"] < 1:
        raise ValueError(f"repeats={params['repeats']} must be >= 1")
