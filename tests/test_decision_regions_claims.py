"""Notebook 04's claim rules (``ddlib.studies.decision_regions.claims``) and the per-unit tables
they are decided on, on synthetic inputs with known answers: every rule is checked both ways (a
case that holds and a minimally changed one that does not), including the interval that decides
it. No training, no data loading."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from ddlib.core.claims import ClaimsTable
from ddlib.metrics.similarity import matrix_of_pairs, similarity_pairs_per_plane
from ddlib.studies.decision_regions import claims as nb04
from ddlib.studies.decision_regions import experiment

NAN = float("nan")
LABELS = ["ResNet18", "VGG", "ViT", "MLP"]
KINDS = {"ResNet18": "conv", "VGG": "conv", "ViT": "vit", "MLPMixer": "mlp_mixer", "MLP": "mlp",
         "ConvNet": "conv", "WideRN10": "conv", "WideRN20": "conv", "WideRN30": "conv"}
WIDTHS = [1, 2, 3, 4, 6, 8, 12, 16]
PEAKED = [0.5, 0.45, 0.5, 0.6, 0.5, 0.4, 0.35, 0.3]  # peak 0.6 at the threshold 4
MONOTONE = [0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25]
DIP = [0.9, 0.85, 0.8, 0.5, 0.7, 0.8, 0.85, 0.9]  # seed-to-seed similarity dips at 4
PLANES = 8
SPREAD = 1e-3
TIGHT = np.array([SPREAD if i % 2 else -SPREAD for i in range(PLANES)])  # mean exactly 0
WILD = np.array([2.0 if i % 2 else -2.0 for i in range(PLANES)])  # mean 0, far apart


def similarity(diagonal: list[float], pairs: dict[tuple[str, str], float] | None = None,
               labels: list[str] = LABELS, off: float = 0.5) -> pd.DataFrame:
    """A symmetric similarity matrix: ``diagonal``, the given pairs, ``off`` elsewhere."""
    matrix = pd.DataFrame(off, index=labels, columns=labels)
    for label, value in zip(labels, diagonal):
        matrix.loc[label, label] = value
    for (a, b), value in (pairs or {}).items():
        matrix.loc[a, b] = matrix.loc[b, a] = value
    return matrix


REFERENCE_MATRIX = similarity([0.9, 0.9, 0.8, 0.7], {
    ("ResNet18", "VGG"): 0.8, ("ResNet18", "ViT"): 0.6, ("VGG", "ViT"): 0.5,
    ("ResNet18", "MLP"): 0.4, ("VGG", "MLP"): 0.4, ("ViT", "MLP"): 0.3})


def pairs_of(matrix: pd.DataFrame, noise=None) -> pd.DataFrame:
    """A per-plane pair table whose plane means are ``matrix``: each entry plus ``TIGHT``, plus
    ``noise(first, second)`` (a per-plane offset with mean 0) where given."""
    labels = list(matrix.index)
    rows, index = [], []
    for i, a in enumerate(labels):
        for b in labels[i:]:
            extra = np.zeros(PLANES) if noise is None else noise(a, b)
            rows.append(matrix.loc[a, b] + TIGHT + extra)
            index.append((a, b))
    return pd.DataFrame(np.stack(rows), index=pd.MultiIndex.from_tuples(index,
                                                                        names=["first", "second"]))


def width_results(test_error=PEAKED, fragmentation=PEAKED, similarity_curve=DIP,
                  clean=MONOTONE) -> pd.DataFrame:
    """A ``width_table``: noise-0 rows use ``clean`` (and a flat similarity), noise-0.2 the curves."""
    rows = []
    for w, c in zip(WIDTHS, clean):
        rows.append({"label_noise": 0.0, "width": w, "train_error": 0.0, "test_error": c,
                     "fragmentation": c, "similarity": 0.9})
    for w, t, f, s in zip(WIDTHS, test_error, fragmentation, similarity_curve):
        rows.append({"label_noise": 0.2, "width": w, "train_error": 0.2 if w < 4 else 0.0,
                     "test_error": t, "fragmentation": f, "similarity": s})
    return pd.DataFrame(rows).sample(frac=1.0, random_state=0)  # order must not matter


def width_samples(widths: pd.DataFrame, units: int = PLANES) -> dict[str, pd.DataFrame]:
    """Per-unit values whose means are the width table's: each row's value plus alternating
    +-``SPREAD`` (an even number of units keeps the mean exact)."""
    offsets = np.array([SPREAD if i % 2 else -SPREAD for i in range(units)])
    table = widths.set_index(["label_noise", "width"]).sort_index()
    return {column: pd.DataFrame(table[column].to_numpy()[:, None] + offsets[None, :],
                                 index=table.index)
            for column in ("test_error", "fragmentation", "similarity")}


def unpaired(samples: pd.DataFrame, scale: float) -> pd.DataFrame:
    """The same row means, units far apart and independent across rows: no pairing helps."""
    rng = np.random.default_rng(1)
    mean = samples.mean(axis=1)
    noisy = samples.copy()
    for row in noisy.index:
        noisy.loc[row] = rng.normal(0.0, scale, noisy.shape[1])
    return noisy.sub(noisy.mean(axis=1), axis=0).add(mean, axis=0)


def per_plane(rows: dict[tuple[str, str], float], names: tuple[str, str],
              noise: dict[tuple[str, str], np.ndarray] | None = None) -> pd.DataFrame:
    """An optimiser or distillation per-plane table: rows (architecture, condition)."""
    index = pd.MultiIndex.from_tuples(list(rows), names=list(names))
    values = [v + TIGHT + (noise or {}).get(k, 0.0) for k, v in rows.items()]
    return pd.DataFrame(np.stack(values), index=index)


def optimizer_planes(sam: dict[str, float] | None = None, noise=None) -> pd.DataFrame:
    """SGD 0.6, Adam 0.9 (irrelevant), SGD+SAM 0.7 unless overridden."""
    sam = {"VGG": 0.7, "MLPMixer": 0.7, **(sam or {})}
    rows = {(label, name): {"Adam": 0.9, "SGD": 0.6, "SGD+SAM": sam[label]}[name]
            for label in ("VGG", "MLPMixer") for name in ("Adam", "SGD", "SGD+SAM")}
    return per_plane(rows, ("architecture", "optimizer"), noise)


def distillation_planes(distilled: dict[str, float] | None = None, noise=None) -> pd.DataFrame:
    """Vanilla 0.5, distilled 0.6 unless overridden."""
    distilled = {"VGG": 0.6, "MLPMixer": 0.6, **(distilled or {})}
    rows = {(label, kind): (0.5 if kind == "vanilla" else distilled[label])
            for label in ("VGG", "MLPMixer") for kind in ("vanilla", "distilled")}
    return per_plane(rows, ("student", "training"), noise)


def nb04_rows(matrix: pd.DataFrame = REFERENCE_MATRIX, *, pairs: pd.DataFrame | None = None,
              widen: dict[str, int] | None = None, widths: pd.DataFrame | None = None,
              thresholds=None, optimizers=None, distillation=None, rho: float = 0.8,
              rho_entries: int = 10, peak_margin: float = 0.05, samples=None) -> list[dict]:
    claims = ClaimsTable("04")
    widths = width_results() if widths is None else widths
    nb04.add_claims(claims, pairs_of(matrix) if pairs is None else pairs, KINDS, widen or {},
                    optimizer_planes() if optimizers is None else optimizers,
                    distillation_planes() if distillation is None else distillation,
                    widths, {0.0: 3, 0.2: 4} if thresholds is None else thresholds,
                    rho, rho_entries, peak_margin, dataset="mnist5k", seeds=2, width_seeds=3,
                    width_samples=width_samples(widths) if samples is None else samples,
                    width_dataset="mnist5k (500 images)")
    return claims.rows


def one_row(rule, *args, **kwargs) -> dict:
    """The one row a single rule adds (cheaper than the whole table)."""
    claims = ClaimsTable("04")
    rule(claims, *args, dataset="mnist5k", seeds=2, **kwargs)
    (added,) = claims.rows
    return added


def same_row(matrix: pd.DataFrame = REFERENCE_MATRIX, noise=None) -> dict:
    return one_row(nb04.same_architecture_more_similar, pairs_of(matrix, noise), KINDS)


def conv_row(matrix: pd.DataFrame = REFERENCE_MATRIX, noise=None) -> dict:
    return one_row(nb04.convolutional_models_closer, pairs_of(matrix, noise), KINDS)


def wide_row(matrix: pd.DataFrame, widen: dict[str, int]) -> dict:
    return one_row(nb04.wide_architectures_most_reproducible, matrix, widen)


def width_row(column: str, widths: pd.DataFrame | None = None, *, samples=None,
              thresholds=None, peak_margin: float = 0.05) -> dict:
    widths = width_results() if widths is None else widths
    largest, what = {"test_error": (True, "test error peaks"),
                     "fragmentation": (True, "fragmentation peaks"),
                     "similarity": (False, "seed-to-seed similarity dips")}[column]
    samples = width_samples(widths)[column] if samples is None else samples
    claims = ClaimsTable("04")
    nb04.width_curve_peaks(claims, widths, {0.0: 3, 0.2: 4} if thresholds is None else thresholds,
                           column, largest, what, peak_margin, "mnist5k", 3, samples)
    (added,) = claims.rows
    return added


def sam_row(optimizers: pd.DataFrame) -> dict:
    return one_row(nb04.sam_raises_similarity, optimizers)


def distil_row(distillation: pd.DataFrame) -> dict:
    return one_row(nb04.distillation_raises_similarity, distillation)


WIDE = "same-architecture similarity"


def low_end(confidence: str) -> float:
    return float(confidence.split("[")[-1].split(",")[0])


# --- the whole table -----------------------------------------------------------------------------


def test_reference_inputs_satisfy_every_claim_with_roles_datasets_and_intervals():
    rows = nb04_rows()
    assert len(rows) == 8 and all(r["holds"] for r in rows)
    assert [r["role"] for r in rows] == ["headline"] * 5 + ["secondary"] * 2 + [
        "implementation check"]
    assert [r["dataset"] for r in rows] == (["mnist5k"] * 2 + ["mnist5k (500 images)"] * 3
                                            + ["mnist5k"] * 3)
    assert [r["seeds"] for r in rows] == [2, 2, 3, 3, 3, 2, 2, 2]
    for r in rows[:7]:  # every difference is decided by a 90% paired bootstrap it prints
        assert "90% two-sided seeded bootstrap over" in r["confidence"]
        assert "(paired across" in r["confidence"] and "> 0" in r["criterion"]
    assert "over 8 test images (paired across widths" in rows[2]["confidence"]
    assert all("over 8 planes (paired across widths" in r["confidence"] for r in rows[3:5])
    assert rows[7]["confidence"] == ""
    assert rows[0]["measured"] == ("same 0.825, cross 0.500; diagonal above its row's cross mean "
                                   "for 4 of 4")
    assert rows[1]["measured"] == "conv-conv 0.800, conv-patch 0.550"
    assert rows[2]["measured"] == ("0.600 at width 4 (threshold 4); best smaller width 0.450, "
                                   "widest 0.300")
    assert rows[4]["measured"] == ("0.500 at width 4 (threshold 4); best smaller width 0.900, "
                                   "widest 0.900")
    assert rows[5]["measured"] == ("VGG: SGD 0.600 -> SAM 0.700, MLPMixer: SGD 0.600 -> SAM "
                                   "0.700; mean gain 0.100")
    assert "MLPMixer: labels 0.500 -> distilled 0.600" in rows[6]["measured"]
    assert rows[7]["measured"] == "Spearman rho 0.80 over 10 entries"


def test_intervals_are_seeded_and_bracket_the_point_estimate():
    first = nb04_rows()
    assert [r["confidence"] for r in nb04_rows()] == [r["confidence"] for r in first]
    low, high = (float(v) for v in first[0]["confidence"].split("[")[-1].rstrip("]").split(", "))
    assert low - 1e-3 <= 0.825 - 0.5 <= high + 1e-3  # printed to 3 significant digits
    low, high = (float(v) for v in first[5]["confidence"].split("[")[-1].rstrip("]").split(", "))
    assert low - 1e-3 <= 0.1 <= high + 1e-3 and low > 0


# --- same architecture vs cross architecture -----------------------------------------------------


def test_same_architecture_claim_is_decided_by_the_paired_interval_over_planes():
    assert same_row()["holds"]
    equal = same_row(similarity([0.5] * 4))  # diagonal = off-diagonal
    assert not equal["holds"] and low_end(equal["confidence"]) <= 0
    below = same_row(similarity([0.4] * 4))
    assert not below["holds"]

    def split(first: str, second: str) -> np.ndarray:  # same planes favour the diagonal or not
        return WILD if first == second else -WILD

    wild = same_row(noise=split)
    assert wild["measured"] == same_row()["measured"]  # the same means
    assert not wild["holds"] and low_end(wild["confidence"]) < 0


def test_same_architecture_interval_is_paired_across_the_two_means():
    """A plane that is hard for every model lowers both means alike: paired, it cancels."""
    shared = same_row(noise=lambda a, b: WILD)
    assert shared["holds"] and low_end(shared["confidence"]) == pytest.approx(0.325, abs=0.01)


def test_same_architecture_measured_counts_rows_without_judging_them():
    two = same_row(similarity([0.9, 0.9, 0.45, 0.45]))
    assert two["holds"]  # the mean difference decides; 2 of 4 rows is reported
    assert two["measured"].endswith("for 2 of 4")


# --- convolutional vs patch-based ----------------------------------------------------------------


def test_convolutional_claim_compares_conv_conv_with_conv_patch_pairs_only():
    labels = ["ResNet18", "VGG", "ViT", "MLPMixer", "MLP"]
    conv_mlp = {("ResNet18", "MLP"): 0.9, ("VGG", "MLP"): 0.9}  # MLP is not patch-based
    pairs = {("ResNet18", "VGG"): 0.625, ("ViT", "MLPMixer"): 0.95, **conv_mlp}
    closer = conv_row(similarity([0.9] * 5, pairs, labels))
    assert closer["holds"] and closer["measured"] == "conv-conv 0.625, conv-patch 0.500"
    # MLPMixer counts as patch-based: conv-MLPMixer 0.75 lifts conv-patch to 0.625 = conv-conv
    tied = similarity([0.9] * 5, {**pairs, ("ResNet18", "MLPMixer"): 0.75,
                                  ("VGG", "MLPMixer"): 0.75}, labels)
    tie = conv_row(tied)
    assert not tie["holds"] and tie["measured"] == "conv-conv 0.625, conv-patch 0.625"
    reverse = similarity([0.9] * 4, {("ResNet18", "VGG"): 0.5, ("ResNet18", "ViT"): 0.7,
                                     ("VGG", "ViT"): 0.7})
    assert not conv_row(reverse)["holds"]


def test_convolutional_claim_fails_when_its_interval_reaches_zero():
    def conv_noise(first: str, second: str) -> np.ndarray:
        return WILD if (first, second) == ("ResNet18", "VGG") else np.zeros(PLANES)

    wild = conv_row(noise=conv_noise)
    assert wild["measured"] == "conv-conv 0.800, conv-patch 0.550"
    assert not wild["holds"] and low_end(wild["confidence"]) < 0


def test_pair_groups_and_contrast_are_exact():
    pairs = pairs_of(REFERENCE_MATRIX)
    groups = nb04.pair_groups(pairs, KINDS)
    assert [tuple(i) for i in pairs.index[groups["conv_patch"]]] == [("ResNet18", "ViT"),
                                                                     ("VGG", "ViT")]
    assert [tuple(i) for i in pairs.index[groups["conv_conv"]]] == [("ResNet18", "VGG")]
    assert groups["same"].sum() == 4 and groups["cross"].sum() == 6
    values = pairs.to_numpy()
    assert nb04.contrast(values, groups["same"], groups["cross"]) == pytest.approx(0.325)
    assert math.isnan(nb04.contrast(values, groups["same"], np.zeros(len(values), bool)))


# --- wide architectures (paper profile) ----------------------------------------------------------

WIDE_LABELS = ["WideRN10", "WideRN20", "WideRN30", "ResNet18"]
WIDEN = {"WideRN10": 10, "WideRN20": 20, "WideRN30": 30}


@pytest.mark.parametrize(("diagonal", "holds"), [
    ([0.86, 0.86, 0.87], True),  # the poster's own diagonal, with its tie
    ([0.80, 0.85, 0.90], True),
    ([0.87, 0.86, 0.86], False),  # reproducibility falls with the widen factor
    ([0.86, 0.87, 0.86], False),
])
def test_wide_architecture_claim_needs_a_non_decreasing_wideresnet_diagonal(diagonal, holds):
    matrix = similarity([*diagonal, 0.83], labels=WIDE_LABELS)
    wide = wide_row(matrix, WIDEN)
    assert wide["holds"] is holds and wide["role"] == "headline" and wide["confidence"] == ""
    assert wide["measured"].startswith(f"WideRN10 (widen 10) {diagonal[0]:.3f}")


def test_wide_architecture_claim_orders_by_widen_factor_not_by_label():
    matrix = similarity([0.90, 0.85, 0.80, 0.83], labels=WIDE_LABELS)  # falls in label order
    reversed_widen = {"WideRN10": 30, "WideRN20": 20, "WideRN30": 10}  # rises in widen factor
    assert wide_row(matrix, reversed_widen)["holds"]


def test_wide_architecture_row_needs_two_widen_factors():
    """Cheap inputs for the rest of the table: only the row count is read."""
    matrix = similarity([0.86, 0.86, 0.87, 0.83], labels=WIDE_LABELS)
    rows = [r["claim"] for r in nb04_rows(matrix, widen=WIDEN)]
    assert len(rows) == 9 and rows[2].startswith(WIDE)


def test_widen_factors_come_from_the_zoo_specs():
    specs = {"WideRN": {"name": "wide_resnet", "widen": 2}, "VGG": {"name": "vgg"}}
    assert experiment.widen_factors(specs, ["VGG", "WideRN"]) == {"WideRN": 2}


# --- width study ---------------------------------------------------------------------------------


@pytest.mark.parametrize("column", ["test_error", "fragmentation"])
def test_width_peak_claims_hold_for_a_peak_at_the_threshold_and_not_for_a_monotone_curve(column):
    assert width_row(column, width_results(**{column: PEAKED}))["holds"]
    assert not width_row(column, width_results(**{column: MONOTONE}))["holds"]


@pytest.mark.parametrize(("column", "units"), [("test_error", "test images"),
                                               ("fragmentation", "planes")])
def test_width_peak_must_clear_its_margin_in_the_bootstrap_over_its_units(column, units):
    """The means show the peak by more than the margin, but the units scatter independently
    across widths: the interval reaches below 0 and the claim fails on the same means."""
    samples = width_samples(width_results(), units=40)[column]
    tight = width_row(column, samples=samples)
    loose = width_row(column, samples=unpaired(samples, 3.0))
    assert tight["holds"] and tight["measured"] == loose["measured"]
    assert not loose["holds"] and low_end(loose["confidence"]) < 0
    assert f"over 40 {units} (paired across widths" in loose["confidence"]


def test_width_claims_read_the_noisiest_rows_and_their_threshold():
    swapped = width_results(test_error=MONOTONE, fragmentation=MONOTONE, clean=PEAKED)
    assert not width_row("test_error", swapped)["holds"]
    assert not width_row("fragmentation", swapped)["holds"]
    assert not width_row("test_error", thresholds={0.0: 4, 0.2: 16})["holds"]
    none = [width_row(c, thresholds={0.0: 4, 0.2: None}) for c in ("test_error", "similarity")]
    assert not any(r["holds"] for r in none) and "(threshold None)" in none[0]["measured"]


def test_similarity_claim_looks_for_a_dip_not_a_peak():
    assert width_row("similarity", width_results(similarity_curve=DIP))["holds"]
    bumped = [1.0 - v for v in DIP]  # a similarity *peak* at the threshold is no dip
    assert not width_row("similarity", width_results(similarity_curve=bumped))["holds"]
    assert width_row("fragmentation", width_results(fragmentation=bumped))["holds"]


def test_width_claims_use_the_given_peak_margin():
    ten_percent = [0.9, 0.9, 0.9, 1.0, 0.95, 0.92, 0.9, 0.9]  # peak 1.0, both shoulders 0.9
    widths = width_results(test_error=ten_percent)
    assert width_row("test_error", widths, peak_margin=0.05)["holds"]
    strict = width_row("test_error", widths, peak_margin=0.5)
    assert not strict["holds"] and "by >= 50%" in strict["criterion"]


def test_width_claims_need_the_peak_within_one_grid_step_of_the_threshold():
    late = [0.3, 0.35, 0.4, 0.45, 0.5, 0.9, 0.6, 0.55]  # peak at 8, two grid steps above 4
    late_row = width_row("test_error", width_results(test_error=late))
    assert not late_row["holds"] and late_row["measured"].startswith("0.500 at width 6")
    near = [0.3, 0.35, 0.4, 0.45, 0.9, 0.6, 0.55, 0.5]  # peak at 6, the threshold's neighbour
    assert width_row("test_error", width_results(test_error=near))["holds"]


# --- SAM and distillation, pooled ----------------------------------------------------------------


def test_sam_claim_is_pooled_over_architectures_as_the_papers_table_allows():
    """The poster's Table 1 (SGD -> SGD + SAM): ViT gains 0.06 points, the others 1.55-3.48."""
    table = {"ResNet-18": (83.74, 87.22), "VGG": (80.92, 84.21), "MLPMixer": (66.51, 68.06),
             "ViT": (75.13, 75.19)}
    rows = {(a, name): value / 100 for a, (sgd, sam) in table.items()
            for name, value in (("SGD", sgd), ("SGD+SAM", sam))}
    poster = sam_row(per_plane(rows, ("architecture", "optimizer")))
    assert poster["holds"] and poster["measured"].endswith("mean gain 0.021")
    assert sam_row(optimizer_planes({"MLPMixer": 0.6}))["holds"]  # one without a gain
    cancel = sam_row(optimizer_planes({"VGG": 0.5}))  # +0.1 and -0.1
    assert not cancel["holds"] and "mean gain 0.000" in cancel["measured"]


def test_sam_claim_fails_when_its_interval_over_planes_reaches_zero():
    wild = sam_row(optimizer_planes(noise={("VGG", "SGD+SAM"): WILD}))
    assert wild["measured"].endswith("mean gain 0.100")
    assert not wild["holds"] and low_end(wild["confidence"]) < 0
    paired = sam_row(optimizer_planes(noise={("VGG", "SGD+SAM"): WILD, ("VGG", "SGD"): WILD}))
    assert paired["holds"]  # the same hard planes for both optimisers cancel


def test_distillation_claim_is_pooled_and_decided_by_its_interval():
    assert distil_row(distillation_planes())["holds"]
    assert distil_row(distillation_planes({"VGG": 0.5}))["holds"]
    lower = distil_row(distillation_planes({"VGG": 0.4}))
    assert not lower["holds"] and "VGG: labels 0.500 -> distilled 0.400" in lower["measured"]
    assert lower["confidence"].startswith("mean gain over students: 90% two-sided")
    wild = distil_row(distillation_planes(noise={("VGG", "distilled"): WILD}))
    assert not wild["holds"] and low_end(wild["confidence"]) < 0


# --- the poster's matrix -------------------------------------------------------------------------


@pytest.mark.parametrize(("rho", "holds"), [(0.5, True), (0.49, False), (1.0, True),
                                            (-0.9, False), (NAN, False)])
def test_rank_correlation_row_needs_rho_at_least_0_5_and_is_no_claim(rho, holds):
    ranks = one_row(nb04.matrix_ranks_like_paper, rho, 7)
    assert ranks["holds"] is holds and ranks["role"] == "implementation check"
    assert ranks["measured"] == f"Spearman rho {rho:.2f} over 7 entries"


def test_reference_matrix_reads_the_poster_and_blanks_what_it_cannot_read():
    labels = ["ViT", "MLPMixer", "MLP", "WideRN", "VGG", "ConvNet"]
    reference = nb04.paper_reference_matrix(labels)
    assert reference.loc["ViT", "MLPMixer"] == reference.loc["MLPMixer", "ViT"] == 0.64
    assert math.isnan(reference.loc["MLP", "MLP"])  # the FullyCon row is not in the poster
    assert reference.loc["MLPMixer", "MLP"] == 0.46 and reference.loc["ViT", "MLP"] == 0.47
    assert reference.loc["WideRN", "WideRN"] == 0.86  # the laptop's WideRN stands for WideRN10
    assert reference.loc["VGG", "WideRN"] == 0.78 and reference.loc["VGG", "VGG"] == 0.79
    assert reference.loc["ConvNet"].isna().all() and reference["ConvNet"].isna().all()


def test_poster_rows_are_a_symmetric_matrix():
    readable = list(nb04.POSTER_ROWS)
    for a in readable:
        for b in readable:
            assert nb04.poster_value(a, b) == nb04.poster_value(b, a)
    assert [nb04.POSTER_ROWS[a][nb04.POSTER_ORDER.index(a)] for a in readable] == [
        0.87, 0.86, 0.86, 0.83, 0.82, 0.79, 0.75, 0.67]


def test_rank_correlation_aligns_labels_and_skips_unknown_entries():
    labels = ["ResNet18", "VGG", "ViT", "MLP", "ConvNet"]
    reference = nb04.paper_reference_matrix(labels)
    measured = reference.iloc[::-1, ::-1].fillna(0.0)  # other order; unknown entries ignored
    rho, entries = nb04.rank_correlation(measured, reference)
    assert rho == pytest.approx(1.0) and entries == 9  # 10 pairs of 4, less FullyCon's diagonal
    rho, entries = nb04.rank_correlation(1.0 - measured, reference)
    assert rho == pytest.approx(-1.0) and entries == 9
    two = nb04.paper_reference_matrix(["VGG", "ConvNet"])
    rho, entries = nb04.rank_correlation(two.fillna(0.5), two)
    assert math.isnan(rho) and entries == 1


# --- the per-unit tables the rules are decided on ------------------------------------------------


def label_images(*rows: list[list[int]]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.long)


ZERO = [[0, 0], [0, 0]]
CORNER = [[1, 0], [0, 0]]
HALF = [[1, 1], [0, 0]]


def test_similarity_pairs_per_plane_are_exact_and_average_to_the_matrix():
    """Two planes of 2 x 2 pixels; A: two identical seeds, B: one seed off by a corner on plane 0
    and by half on plane 1, C: a single seed."""
    a = label_images(ZERO, ZERO)
    b = label_images(CORNER, HALF)
    c = label_images(HALF, ZERO)
    pairs = similarity_pairs_per_plane({"A": [a, a], "B": [a, b], "C": [c]})
    assert pairs.loc[("A", "A")].tolist() == [1.0, 1.0]
    assert pairs.loc[("B", "B")].tolist() == [0.75, 0.5]
    assert pairs.loc[("A", "B")].tolist() == [0.875, 0.75]  # pairs (a, a) and (a, b)
    assert pairs.loc[("B", "C")].tolist() == [0.625, 0.75]  # (a, c) = (.5, 1), (b, c) = (.75, .5)
    assert pairs.loc[("C", "C")].isna().all()  # one seed: no pair
    matrix = matrix_of_pairs(pairs)
    assert matrix.loc["B", "A"] == matrix.loc["A", "B"] == pytest.approx(0.8125)
    assert math.isnan(matrix.loc["C", "C"])


def test_optimizer_and_distillation_plane_values_are_exact():
    a, b, c = label_images(ZERO, ZERO), label_images(CORNER, HALF), label_images(HALF, ZERO)
    optimizers = experiment.optimizer_plane_values({("SGD", "VGG", 0): a, ("SGD", "VGG", 1): b,
                                                    ("SGD", "VGG", 2): c})
    # pairs (a, b) = (.75, .5), (a, c) = (.5, 1), (b, c) = (.75, .5)
    assert optimizers.loc[("VGG", "SGD")].tolist() == pytest.approx([2 / 3, 2 / 3])
    distillation = experiment.distillation_plane_values(a, {("VGG", 0): b, ("VGG", 1): c},
                                                        {("VGG", 0): a, ("VGG", 1): a})
    assert distillation.loc[("VGG", "vanilla")].tolist() == [0.625, 0.75]
    assert distillation.loc[("VGG", "distilled")].tolist() == [1.0, 1.0]


def test_width_test_outcomes_average_seeds_per_image(monkeypatch):
    wrong = {(0.2, 4, 0): [1, 0, 0, 1], (0.2, 4, 1): [1, 1, 0, 0], (0.2, 8, 0): [0, 0, 0, 1]}
    monkeypatch.setattr(experiment, "per_image_test_outcomes",
                        lambda run, device: pd.DataFrame({"wrong": wrong[run]}))
    outcomes = experiment.width_test_outcomes({key: key for key in wrong}, "cpu")
    assert outcomes.loc[(0.2, 4)].tolist() == [1.0, 0.5, 0.0, 0.5]
    assert outcomes.loc[(0.2, 8)].tolist() == [0.0, 0.0, 0.0, 1.0]
    assert outcomes.loc[(0.2, 4)].mean() == 0.5  # the seed-mean test error


class _FinishedRun:
    """Only what ``width_table`` reads of a run: that it is finished, and its final summary."""

    def __init__(self, train_error: float, test_error: float) -> None:
        self.summary = {"train_error": train_error, "test_error": test_error}

    def is_complete(self) -> bool:
        return True

    def result(self) -> dict:
        return {"summary": self.summary}


def test_width_plane_values_are_exact_and_average_to_the_width_table():
    """Two planes of 3 x 3 labels, three seeds at (0.2, 4) and one seed at (0.2, 8).

    Plane 0: all class 0, except seed 2 with one class-1 corner pixel: similarities 1, 8/9, 8/9
    (mean 25/27); regions 1, 1, 2 (mean 4/3). Plane 1: the same checkerboard for every seed, two
    8-connected regions, similarity 1."""
    uniform = torch.zeros(3, 3, dtype=torch.long)
    corner = uniform.clone()
    corner[0, 0] = 1
    checker = torch.tensor([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    predictions = {(0.2, 4, 0): torch.stack([uniform, checker]),
                   (0.2, 4, 1): torch.stack([uniform, checker]),
                   (0.2, 4, 2): torch.stack([corner, checker]),
                   (0.2, 8, 0): torch.stack([corner, checker])}
    runs = {key: _FinishedRun(0.0, 0.5) for key in predictions}
    values = experiment.width_plane_values(runs, predictions)
    fragments, similarity_values = values["fragmentation"], values["similarity"]
    assert fragments.loc[(0.2, 4)].tolist() == pytest.approx([4 / 3, 2.0])
    assert fragments.loc[(0.2, 8)].tolist() == pytest.approx([2.0, 2.0])
    assert similarity_values.loc[(0.2, 4)].tolist() == pytest.approx([25 / 27, 1.0])
    assert (0.2, 8) not in similarity_values.index  # one seed: no pair
    table = experiment.width_table(runs, values).set_index(["label_noise", "width"])
    assert table.loc[(0.2, 4), "fragmentation"] == pytest.approx(fragments.loc[(0.2, 4)].mean())
    assert table.loc[(0.2, 4), "similarity"] == pytest.approx(
        similarity_values.loc[(0.2, 4)].mean())
    assert table.loc[(0.2, 4), "test_error_std"] == 0.0
