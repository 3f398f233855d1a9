"""Parameters of notebook 01 (linear-regression double descent, Schaeffer et al.; docs/papers.md §1)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ddlib.core.checks import Choice, Flag, Integer, ListOf, MapOf, Real, check_cost
from ddlib.core.data import FEATURE_COUNTS, REGRESSION_DATASETS
from ddlib.core.params import Param, profiles

# Bounds on sizes are generous; what they allow is then priced by the cost checks of ``validate``.
MAX_TRAIN_SIZE = 200  # the sweep's largest N; every dataset has more points (at least 442)
MAX_REPEATS = 1_000_000
MAX_SETTINGS = 100  # cut-offs, ranks or scales of one ablation (one curve each in a figure)
MAX_DEGREE = 10_000  # Legendre degree P of the polynomial figure
MAX_GAUSSIAN_SIZE = 1_000_000  # samples n of the 3-D Gaussian picture
POINTS = {"diabetes": 442, "student-teacher": 1000, "california-housing": 20640,
          "who-life-expectancy": 1649}  # n of each regression dataset (as loaded)
POLYNOMIAL_TRAIN, POLYNOMIAL_TEST = 15, 1000  # points of ddlib.metrics.linear.polynomial_sweep

_DATASETS = ListOf(Choice(REGRESSION_DATASETS), min_length=0, distinct=True)
_RANKS = ListOf(Integer(1, 2 * max(FEATURE_COUNTS.values())), max_length=MAX_SETTINGS,
                distinct=True)
_REPEATS = Integer(1, MAX_REPEATS)

PARAMETERS = {  # the laptop values; every value is checked by its rule before any data is loaded
    "datasets": Param(["diabetes", "student-teacher"], ListOf(Choice(REGRESSION_DATASETS),
                      distinct=True), "regression datasets that must be available (error if missing)"),
    "optional_datasets": Param(["california-housing", "who-life-expectancy"], _DATASETS,
                               "datasets used only when their files are already in data/"),
    "max_train_size": Param(39, Integer(1, MAX_TRAIN_SIZE),
                            "largest training-set size N (N = 1..max) [points]"),
    "repeats": Param(50, _REPEATS,
                     "random train/test splits per N (reference convention, seeds 0..repeats-1)"),
    # absolute cut-offs: singular values of raw features can be large, so no upper bound
    "cutoffs": Param([0.001, 0.00316, 0.01, 0.0316, 0.1, 0.316, 1.0],  # logspace(-3, 0, 7)
                     ListOf(Real(0.0, None), max_length=MAX_SETTINGS, distinct=True),
                     "ablation 1: absolute singular-value cut-offs c"),
    # c = 0 removes nothing, so a claim that the peak is removed needs c > 0
    "claim_cutoff": Param({"diabetes": 0.1, "student-teacher": 1.0, "california-housing": 1.0,
                           "who-life-expectancy": 1.0},
                          MapOf(Choice(REGRESSION_DATASETS), Real(0.0, None, low_open=True)),
                          "cut-off c per dataset used by the 'peak removed' claim"),
    "subspace_ranks_real": Param(list(range(1, 11)), _RANKS,
                                 "ablation 2: top-k right singular vectors kept, real datasets"),
    "subspace_ranks_student_teacher": Param([5, 10, 15, 20, 25], _RANKS,
                                            "ablation 2: top-k kept, Student-Teacher"),
    # |a| along a singular vector whose sign is arbitrary: a >= 0 covers every attack
    "adversarial_scales": Param([0.0, 0.1, 0.316, 1.0, 3.16, 10.0, 31.6],
                                ListOf(Real(0.0, 1e6), max_length=MAX_SETTINGS, distinct=True),
                                "a in x_test + a v_last and y_train + a u_last"),
    "polynomial_degrees": Param(list(range(1, 26)) + [30, 40, 50, 100, 200],
                                ListOf(Integer(1, MAX_DEGREE), max_length=1000, distinct=True),
                                "Legendre degrees p of the polynomial intuition figure"),
    "polynomial_repeats": Param(30, _REPEATS, "fresh draws of the 15 training points per degree"),
    "gaussian_sizes": Param(list(range(1, 11)) + [25, 100],
                            ListOf(Integer(1, MAX_GAUSSIAN_SIZE), max_length=1000, distinct=True),
                            "sample counts n of the 3D Gaussian singular-value picture"),
    "gaussian_repeats": Param(200, _REPEATS, "draws per n of the 3D Gaussian picture"),
    "allow_download": Param(False, Flag(),
                            "whether sklearn may download california-housing into data/"),
}
PROFILES = profiles(
    PARAMETERS,
    smoke={"repeats": 8, "polynomial_degrees": [1, 5, 10, 13, 14, 15, 16, 20, 25, 50, 200],
           "polynomial_repeats": 5, "gaussian_sizes": [1, 2, 3, 4, 5, 10, 25, 100],
           "gaussian_repeats": 20},
    paper={"datasets": ["diabetes", "student-teacher", "california-housing"],
           "optional_datasets": ["who-life-expectancy"], "allow_download": True},
)
# The paper profile at toy sizes (docs/rehearsal.md): every dataset, ablation and figure, fewer
# repeats; nothing downloads (missing datasets get synthetic stand-ins).
REHEARSAL = {"repeats": 4, "polynomial_repeats": 3, "gaussian_repeats": 5, "allow_download": False}
PAPER_DATASETS = ("california-housing", "who-life-expectancy")  # loaded by the paper profile: stand-ins in a rehearsal, downloads in a run

# Counted by hand, not by ddlib.models.cost: linear regression runs in numpy, with no model spec.
ROW_BYTES = 224  # a row of the long sweep table (7 columns of 8 bytes) x 4 live copies
RECORD_BYTES = 500  # a row of the polynomial / Gaussian tables, built from a list of dicts


def _close_to_one_of(value: float, options: Sequence[float]) -> bool:
    """``np.isclose`` of ``value`` and some option (how the claims pick a cut-off's curve)."""
    return any(abs(value - option) <= 1e-8 + 1e-5 * abs(option) for option in options)


def _sweep_cost(params: Mapping[str, Any], used: Sequence[str]) -> tuple[float, float]:
    """Memory [bytes] and FLOP of ``experiment.sweep_table`` over every dataset used.

    Per dataset (n points, D features, M = max_train_size, r = repeats; C cut-offs, K ranks and
    A adversarial scales): the largest arrays are five (r, n, D) float64 arrays of test features
    (X_test, the projection, two projected copies, the adversarial datum) and two (r, n) index
    arrays: 8 r n (5 D + 2) bytes; the long table has M r (7 + C + K + 2 A) rows of ROW_BYTES.
    FLOP: for every N and repeat, K + 1 projections of the test set (4 n D^2 each), C + 2 A + 5
    predictions (2 n D each) and C + 4 SVDs of the (N, D) training matrix (10 N D min(N, D)):
    M r [n D (4 D (K + 1) + 2 (C + 2 A + 5)) + 10 (C + 4) M D min(M, D)].
    """
    M, r = params["max_train_size"], params["repeats"]
    C, A = len(params["cutoffs"]), len(params["adversarial_scales"])
    arrays, rows, flop = 0.0, 0.0, 0.0
    for name in used:
        n, D = POINTS[name], FEATURE_COUNTS[name]
        K = len(params["subspace_ranks_student_teacher" if name == "student-teacher"
                       else "subspace_ranks_real"])
        arrays = max(arrays, 8.0 * r * n * (5 * D + 2))
        rows += M * r * (7 + C + K + 2 * A)
        flop += M * r * (n * D * (4 * D * (K + 1) + 2 * (C + 2 * A + 5))
                         + 10 * (C + 4) * M * D * min(M, D))
    return arrays + ROW_BYTES * rows, flop


def _polynomial_cost(params: Mapping[str, Any]) -> tuple[float, float]:
    """Memory [bytes] and FLOP of ``linear.polynomial_sweep`` (R repeats, degrees p, N = 15 and
    1,000 test points): per degree four (R, N, p + 1) arrays (features, U, Vt, Vandermonde), the
    (1000, p + 1) test features and two (R, 1000) predictions, plus R len(p) table rows;
    FLOP sum_p R (4 N^2 (p + 1) + 2 N (p + 1) + 2 * 1000 p + 3 * 1000)."""
    R, degrees = params["polynomial_repeats"], params["polynomial_degrees"]
    n, t = POLYNOMIAL_TRAIN, POLYNOMIAL_TEST
    arrays = max(8.0 * (4 * R * n * (p + 1) + t * (p + 1) + 2 * R * t) for p in degrees)
    flop = sum(R * (4.0 * n * n * (p + 1) + 2 * n * (p + 1) + 2 * t * p + 3 * t) for p in degrees)
    return arrays + RECORD_BYTES * R * len(degrees), flop


def _gaussian_cost(params: Mapping[str, Any]) -> tuple[float, float]:
    """Memory [bytes] and FLOP of ``linear.gaussian_smallest_singular_values`` (R repeats, sizes
    n, D = 3): three (R, n, 3) float64 arrays for the largest n (normal draws, their transform,
    the samples) plus R len(n) table rows; FLOP sum_n R n (2 D^2 + 10 D^2) for the transform and
    the singular values."""
    R, sizes = params["gaussian_repeats"], params["gaussian_sizes"]
    arrays = 8.0 * 3 * R * max(sizes) * 3
    flop = sum(12.0 * 9 * R * n for n in sizes)
    return arrays + RECORD_BYTES * R * len(sizes), flop


def validate(params: dict) -> None:
    """Cross-field rules and cost checks (single values are checked by their rules first).

    Required and optional datasets do not overlap; the sweep reaches beyond every dataset's
    threshold N = D; the claim has a cut-off for every dataset used, among the swept ``cutoffs``;
    subspace ranks are at most twice the largest D of their datasets (any k >= D is the
    un-ablated fit: one such rank may be kept as a reference, as the paper's k = 25 on
    Student-Teacher's D = 20); and the sweep, the polynomial figure and the Gaussian picture fit
    in this machine's memory and in a year of one GPU.
    """
    both = [d for d in params["optional_datasets"] if d in params["datasets"]]
    if both:
        raise ValueError(f"optional_datasets={params['optional_datasets']!r} is not allowed; use "
                         f"datasets not already in datasets={params['datasets']!r} (both have {both})")
    used = [*params["datasets"], *params["optional_datasets"]]

    largest_d = max(FEATURE_COUNTS[d] for d in used)
    if not largest_d < params["max_train_size"]:
        raise ValueError(f"max_train_size={params['max_train_size']} is not allowed; use an integer "
                         f"in [{largest_d + 1}, {MAX_TRAIN_SIZE}] (beyond the largest number of "
                         f"features D = {largest_d} of the datasets {used})")

    cutoffs = params["claim_cutoff"]
    missing = [d for d in used if d not in cutoffs]
    if missing:
        raise ValueError(f"claim_cutoff={cutoffs!r} is not allowed; use a dict with a cut-off for "
                         f"every dataset used: {used} (missing {missing})")
    off_grid = {d: cutoffs[d] for d in used if not _close_to_one_of(cutoffs[d], params["cutoffs"])}
    if off_grid:
        raise ValueError(f"claim_cutoff={cutoffs!r} is not allowed; use values among "
                         f"cutoffs={params['cutoffs']!r} (the claim reads that curve; not swept: "
                         f"{off_grid})")

    groups = {"subspace_ranks_real": [d for d in used if d != "student-teacher"],
              "subspace_ranks_student_teacher": [d for d in used if d == "student-teacher"]}
    for key, names in groups.items():
        if not names:
            continue  # the ranks are not used
        bound = 2 * max(FEATURE_COUNTS[d] for d in names)
        high = [k for k in params[key] if k > bound]
        if high:
            raise ValueError(f"{key}={params[key]!r} is not allowed; use ranks k in 1..{bound} "
                             f"(at most 2 D, D = {bound // 2} the most features among {names}; "
                             f"every k >= D gives the un-ablated fit)")

    for what, (memory, flop) in (
        (f"the sweep (repeats={params['repeats']}, max_train_size={params['max_train_size']}, "
         f"datasets {used})", _sweep_cost(params, used)),
        (f"the polynomial figure (polynomial_repeats={params['polynomial_repeats']}, "
         f"polynomial_degrees up to {max(params['polynomial_degrees'])})", _polynomial_cost(params)),
        (f"the Gaussian picture (gaussian_repeats={params['gaussian_repeats']}, gaussian_sizes up "
         f"to {max(params['gaussian_sizes'])})", _gaussian_cost(params)),
    ):
        check_cost(what, memory_bytes=memory, flop=flop)
