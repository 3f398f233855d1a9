"""The claim rules of the studies (``ddlib.studies.<study>.claims``) on synthetic inputs with known
answers: every rule is checked both ways (a case that holds and a minimally changed one that does
not), and the measured text where it carries the key number. No training, no data loading."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ddlib.analysis import grokking_timing
from ddlib.core.claims import ClaimsTable
from ddlib.studies.convnet_sharpness import claims as nb02
from ddlib.studies.decision_regions import claims as nb04
from ddlib.studies.local_complexity import claims as nb03

NAN = float("nan")
ONE_RUN = {"dataset": "mnist5k", "seeds": 1}  # notebook 03's rules read one run


# =============================================================================================
# Notebook 03: local complexity (grokking timing; the other rules: test_local_complexity_claims.py)
# =============================================================================================
def phases_dict(three_phases: bool = True, peak_step: int = 50, lc_peak: float = 2.0) -> dict:
    return {"lc_start": 1.0, "lc_first_min": 0.5, "first_min_step": 10, "lc_peak": lc_peak,
            "peak_step": peak_step, "lc_final_min": 0.25, "final_min_step": 1000,
            "three_phases": three_phases}


GROK_TIMING = {"saturation_step": 10, "rise_step": 100, "test_gain": 0.5, "lc_at_rise": 1.0,
               "test_at_saturation": 0.3, "test_final": 0.8, "lc_final": 0.5}


def test_grokking_holds_on_the_reference_case():
    assert nb03.grokking_holds(GROK_TIMING, phases_dict(), last_step=1000) is True


@pytest.mark.parametrize(("timing", "phases", "last_step"), [
    pytest.param({"test_gain": 0.09}, {}, 1000, id="gain below 0.1"),
    pytest.param({"saturation_step": 34}, {}, 1000, id="rise before 3x saturation (102 > 100)"),
    pytest.param({}, {}, 100, id="rise at the last logged step"),
    pytest.param({}, {"peak_step": 150}, 1000, id="rise before the LC peak"),
    pytest.param({}, {"peak_step": 100}, 1000, id="rise at the LC peak"),
    pytest.param({"lc_at_rise": 1.8}, {}, 1000, id="LC at the rise = 0.9 x peak"),
    pytest.param({"lc_at_rise": 1.9}, {}, 1000, id="LC at the rise above 0.9 x peak"),
    pytest.param({"saturation_step": None, "rise_step": None, "test_gain": 0.0}, {}, 1000,
                 id="never saturated"),
])
def test_grokking_fails_when_any_one_condition_is_violated(timing, phases, last_step):
    assert nb03.grokking_holds({**GROK_TIMING, **timing}, phases_dict(**phases), last_step) is False


@pytest.mark.parametrize(("timing", "peak_step", "last_step"), [
    ({"test_gain": 0.1}, 50, 1000),  # gain >= 0.1
    ({"saturation_step": 33}, 50, 1000),  # 99 <= 100
    ({"rise_step": 30, "saturation_step": 10}, 20, 1000),  # rise = 3 x saturation exactly
    ({"saturation_step": 0, "rise_step": 51}, 50, 1000),  # saturation 0 counts as step 1
    ({}, 50, 101),  # the last logged step is after the rise
    ({"lc_at_rise": 1.79}, 50, 1000),  # just below 0.9 x 2.0
])
def test_grokking_boundaries_that_still_hold(timing, peak_step, last_step):
    phases = phases_dict(peak_step=peak_step)
    assert nb03.grokking_holds({**GROK_TIMING, **timing}, phases, last_step) is True


def grokking_metrics(test: list[float], train: list[float] | None = None) -> pd.DataFrame:
    steps = [0, 10, 20, 40, 80, 160, 320, 640, 1000]
    train = [0.5, 0.99, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0] if train is None else train
    lc = [1.0, 1.5, 2.0, 1.8, 1.5, 1.0, 0.8, 0.6, 0.5]
    return pd.DataFrame({"step": steps, "train_accuracy": train, "test_accuracy": test,
                         "lc_train_fine": lc})


def test_grokking_claim_on_grokking_timing_of_a_synthetic_log():
    phases = phases_dict(peak_step=20, lc_peak=2.0)
    late = grokking_metrics([0.1, 0.2, 0.2, 0.2, 0.25, 0.3, 0.8, 0.9, 0.9])
    timing = grokking_timing(late, "lc_train_fine")
    assert timing["saturation_step"] == 10 and timing["rise_step"] == 320
    claims = ClaimsTable("03")
    nb03.add_grokking_claim(claims, timing, phases, last_step=1000, init_scale=8.0, **ONE_RUN)
    (row,) = claims.rows
    assert row["holds"]
    assert row["claim"].startswith("grokking (init x8):")
    assert "train acc >= 0.99 at step 10" in row["measured"]
    assert "test acc 0.20 -> 0.90, half of the gain at step 320" in row["measured"]
    assert "LC 2.00 -> 0.80 at the rise" in row["measured"]
    # Test accuracy rising together with training accuracy is no grokking (rise at step 20 < 30).
    early = grokking_metrics([0.1, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9])
    claims = ClaimsTable("03")
    nb03.add_grokking_claim(claims, grokking_timing(early, "lc_train_fine"), phases, 1000, 8.0,
                            **ONE_RUN)
    assert not claims.rows[0]["holds"]


def test_grokking_claim_without_saturation_is_recorded_as_not_holding():
    never = grokking_metrics([0.1] * 9, train=[0.5] * 9)
    timing = grokking_timing(never, "lc_train_fine")
    claims = ClaimsTable("03")
    nb03.add_grokking_claim(claims, timing, phases_dict(), last_step=1000, init_scale=1.0,
                            **ONE_RUN)
    (row,) = claims.rows
    assert not row["holds"]
    assert "train acc >= 0.99 at step None" in row["measured"] and "nan" in row["measured"]


# =============================================================================================
# Notebook 04: decision regions
# =============================================================================================
LABELS = ["ResNet18", "VGG", "ViT", "MLP"]
KINDS = {"ResNet18": "conv", "VGG": "conv", "ViT": "vit", "MLPMixer": "mlp_mixer", "MLP": "mlp",
         "ConvNet": "conv"}
WIDTHS = [1, 2, 3, 4, 6, 8, 12, 16]
PEAKED = [0.5, 0.45, 0.5, 0.6, 0.5, 0.4, 0.35, 0.3]  # peak 0.6 at the threshold 4
MONOTONE = [0.6, 0.55, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25]
DIP = [0.9, 0.85, 0.8, 0.5, 0.7, 0.8, 0.85, 0.9]  # seed-to-seed similarity dips at 4


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


def optimizer_results(sam: dict[str, float] | None = None) -> pd.DataFrame:
    """An ``optimizer_table``: SGD 0.6, Adam 0.9 (irrelevant), SGD+SAM 0.7 unless overridden."""
    sam = {"VGG": 0.7, "MLPMixer": 0.7, **(sam or {})}
    rows = []
    for name in ("Adam", "SGD", "SGD+SAM"):
        for label in ("VGG", "MLPMixer"):
            value = {"Adam": 0.9, "SGD": 0.6, "SGD+SAM": sam[label]}[name]
            rows.append({"architecture": label, "optimizer": name, "similarity": value,
                         "test_accuracy": 0.9})
    return pd.DataFrame(rows)


def distillation_results(distilled: dict[str, float] | None = None) -> pd.DataFrame:
    """A ``distillation_table``: vanilla 0.5, distilled 0.6 unless overridden."""
    distilled = {"VGG": 0.6, "MLPMixer": 0.6, **(distilled or {})}
    rows = []
    for label in ("VGG", "MLPMixer"):
        for kind, value in (("vanilla", 0.5), ("distilled", distilled[label])):
            rows.append({"student": label, "training": kind, "similarity_to_teacher": value,
                         "test_accuracy": 0.9})
    return pd.DataFrame(rows)


def width_planes(widths: pd.DataFrame, planes: int = 8, spread: float = 1e-3,
                 ) -> dict[str, pd.DataFrame]:
    """Per-plane values whose plane means are the width table's: each row's value plus
    alternating +-``spread`` (an even number of planes keeps the mean exact)."""
    offsets = np.array([spread if i % 2 else -spread for i in range(planes)])
    table = widths.set_index(["label_noise", "width"]).sort_index()
    return {column: pd.DataFrame(table[column].to_numpy()[:, None] + offsets[None, :],
                                 index=table.index) for column in ("fragmentation", "similarity")}


def nb04_rows(matrix: pd.DataFrame = REFERENCE_MATRIX, *, widths: pd.DataFrame | None = None,
              thresholds=None, optimizers=None, distillation=None, rho: float = 0.8,
              rho_entries: int = 10, peak_margin: float = 0.05, planes: dict[str, pd.DataFrame] | None = None,
              ) -> list[dict]:
    claims = ClaimsTable("04")
    widths = width_results() if widths is None else widths
    nb04.add_claims(claims, matrix, KINDS,
                    optimizer_results() if optimizers is None else optimizers,
                    distillation_results() if distillation is None else distillation,
                    widths,
                    {0.0: 3, 0.2: 4} if thresholds is None else thresholds,
                    rho, rho_entries, peak_margin, dataset="mnist5k", seeds=2,
                    width_seeds=2, width_planes=width_planes(widths) if planes is None else planes)
    assert len(claims.rows) == 8
    return claims.rows


def test_decision_regions_reference_inputs_satisfy_every_claim():
    rows = nb04_rows()
    assert [r["holds"] for r in rows] == [True] * 8
    same = rows[0]["measured"]
    assert same == "same 0.825, cross 0.500; diagonal above its row's cross mean for 4 of 4"
    assert rows[1]["measured"] == "conv-conv 0.800, conv-patch 0.550"
    assert rows[2]["claim"] == ("with 20% label noise, test error peaks near the interpolation "
                                "threshold (double descent)")
    assert rows[2]["measured"] == ("0.600 at width 4 (threshold 4); best smaller width 0.450, "
                                   "widest 0.300")
    assert rows[4]["measured"] == ("0.500 at width 4 (threshold 4); best smaller width 0.900, "
                                   "widest 0.900")
    assert rows[4]["criterion"].startswith("a local min within 1 grid step of the threshold below")
    assert "by >= 5%" in rows[2]["criterion"]
    assert "VGG: SGD 0.600 -> SAM 0.700" in rows[5]["measured"]
    assert "MLPMixer: labels 0.500 -> distilled 0.600" in rows[6]["measured"]
    assert rows[7]["measured"] == "Spearman rho 0.80 over 10 entries"


def test_same_architecture_claim_needs_three_quarters_of_the_rows():
    three = nb04_rows(similarity([0.9, 0.9, 0.9, 0.45]))[0]  # 3 of 4 rows: 3 >= 0.75 x 4
    assert three["holds"]
    assert three["measured"].endswith("for 3 of 4 (not MLP)")
    two = nb04_rows(similarity([0.9, 0.9, 0.45, 0.45]))[0]  # mean 0.675 > 0.5, but 2 of 4 rows
    assert not two["holds"]
    assert two["measured"] == ("same 0.675, cross 0.500; diagonal above its row's cross mean for "
                               "2 of 4 (not MLP, ViT)")


def test_same_architecture_claim_also_needs_the_mean_diagonal_above_the_mean_cross():
    low_mean = nb04_rows(similarity([0.6, 0.6, 0.6, 0.0]))[0]  # 3 of 4 rows, mean 0.45 < 0.5
    assert not low_mean["holds"] and "for 3 of 4 (not MLP)" in low_mean["measured"]


def test_convolutional_claim_compares_conv_conv_with_conv_patch_pairs_only():
    labels = ["ResNet18", "VGG", "ViT", "MLPMixer", "MLP"]
    conv_mlp = {("ResNet18", "MLP"): 0.9, ("VGG", "MLP"): 0.9}  # MLP is not patch-based
    pairs = {("ResNet18", "VGG"): 0.625, ("ViT", "MLPMixer"): 0.95, **conv_mlp}
    matrix = similarity([0.9] * 5, pairs, labels)
    assert nb04.family_means(matrix, KINDS)["conv_patch"] == 0.5
    closer = nb04_rows(matrix)[1]
    assert closer["holds"] and closer["measured"] == "conv-conv 0.625, conv-patch 0.500"
    # MLPMixer counts as patch-based: conv-MLPMixer 0.75 lifts conv-patch to 0.625 = conv-conv
    # (values exact in binary, so the tie is exact).
    tied = similarity([0.9] * 5, {**pairs, ("ResNet18", "MLPMixer"): 0.75,
                                  ("VGG", "MLPMixer"): 0.75}, labels)
    row = nb04_rows(tied)[1]
    assert not row["holds"] and row["measured"] == "conv-conv 0.625, conv-patch 0.625"
    reverse = similarity([0.9] * 4, {("ResNet18", "VGG"): 0.5, ("ResNet18", "ViT"): 0.7,
                                     ("VGG", "ViT"): 0.7})
    assert not nb04_rows(reverse)[1]["holds"]


@pytest.mark.parametrize(("column", "index"), [("test_error", 2), ("fragmentation", 3)])
def test_width_peak_claims_hold_for_a_peak_at_the_threshold_and_not_for_a_monotone_curve(column,
                                                                                        index):
    assert nb04_rows(widths=width_results(**{column: PEAKED}))[index]["holds"]
    row = nb04_rows(widths=width_results(**{column: MONOTONE}))[index]
    assert not row["holds"]


def test_width_claims_read_the_noisiest_rows_and_their_threshold():
    # Peaked at noise 0, monotone at noise 0.2: the 20% claim must not hold.
    swapped = width_results(test_error=MONOTONE, fragmentation=MONOTONE, clean=PEAKED)
    assert [r["holds"] for r in nb04_rows(widths=swapped)[2:4]] == [False, False]
    # The threshold is that of the noisiest rate: 16 puts the window [8, 32] past the peak.
    assert not nb04_rows(thresholds={0.0: 4, 0.2: 16})[2]["holds"]
    none = nb04_rows(thresholds={0.0: 4, 0.2: None})
    assert not any(r["holds"] for r in none[2:5])
    assert "(threshold None)" in none[2]["measured"]


def test_similarity_claim_looks_for_a_dip_not_a_peak():
    rows = nb04_rows(widths=width_results(similarity_curve=DIP))
    assert rows[4]["holds"]
    bumped = [1.0 - v for v in DIP]  # a similarity *peak* at the threshold is no dip
    assert not nb04_rows(widths=width_results(similarity_curve=bumped))[4]["holds"]
    # the same bump counts as a peak for fragmentation (largest=True)
    assert nb04_rows(widths=width_results(fragmentation=bumped))[3]["holds"]


def test_width_claims_use_the_given_peak_margin():
    ten_percent = [0.9, 0.9, 0.9, 1.0, 0.95, 0.92, 0.9, 0.9]  # peak 1.0, both shoulders 0.9
    widths = width_results(test_error=ten_percent, fragmentation=ten_percent)
    assert nb04_rows(widths=widths, peak_margin=0.05)[2]["holds"]
    strict = nb04_rows(widths=widths, peak_margin=0.5)
    assert not strict[2]["holds"] and not strict[3]["holds"]
    assert "by >= 50%" in strict[2]["criterion"]


def test_width_claims_need_the_peak_within_one_grid_step_of_the_threshold():
    """The factor-2 window accepted a peak at 8 = 2 x the threshold 4, two grid steps away."""
    late = [0.3, 0.35, 0.4, 0.45, 0.5, 0.9, 0.6, 0.55]  # peak at 8, two grid steps above 4
    row = nb04_rows(widths=width_results(test_error=late))[2]
    assert not row["holds"] and row["measured"].startswith("0.500 at width 6 (threshold 4)")
    assert "within 1 grid step of the threshold" in row["criterion"]
    near = [0.3, 0.35, 0.4, 0.45, 0.9, 0.6, 0.55, 0.5]  # peak at 6, the threshold's neighbour
    row = nb04_rows(widths=width_results(test_error=near))[2]
    assert row["holds"] and row["measured"].startswith("0.900 at width 6 (threshold 4)")


def test_sam_claim_needs_a_gain_for_every_architecture():
    assert nb04_rows()[5]["holds"]
    one_exception = nb04_rows(optimizers=optimizer_results({"MLPMixer": 0.6}))[5]  # SAM = SGD
    assert not one_exception["holds"]
    assert "MLPMixer: SGD 0.600 -> SAM 0.600" in one_exception["measured"]
    assert not nb04_rows(optimizers=optimizer_results({"VGG": 0.5}))[5]["holds"]


def test_distillation_claim_needs_a_gain_for_every_student():
    assert nb04_rows()[6]["holds"]
    one_exception = nb04_rows(distillation=distillation_results({"VGG": 0.4}))[6]
    assert not one_exception["holds"]
    assert "VGG: labels 0.500 -> distilled 0.400" in one_exception["measured"]
    assert not nb04_rows(distillation=distillation_results({"MLPMixer": 0.5}))[6]["holds"]


@pytest.mark.parametrize(("rho", "holds"), [(0.5, True), (0.49, False), (1.0, True),
                                            (-0.9, False), (NAN, False)])
def test_rank_correlation_claim_needs_rho_at_least_0_5(rho, holds):
    row = nb04_rows(rho=rho, rho_entries=7)[7]
    assert row["holds"] is holds
    assert row["measured"] == f"Spearman rho {rho:.2f} over 7 entries"


def test_rank_correlation_aligns_labels_and_skips_unknown_entries():
    labels = ["ResNet18", "VGG", "ViT", "MLP", "ConvNet"]  # ConvNet: not in the paper
    reference = nb04.paper_reference_matrix(labels, KINDS)
    assert reference.loc["ConvNet"].isna().all() and reference["ConvNet"].isna().all()
    measured = reference.iloc[::-1, ::-1].fillna(0.0)  # other order; ConvNet entries ignored
    rho, entries = nb04.rank_correlation(measured, reference)
    assert rho == pytest.approx(1.0) and entries == 10
    rho, entries = nb04.rank_correlation(1.0 - measured, reference)
    assert rho == pytest.approx(-1.0) and entries == 10
    two = nb04.paper_reference_matrix(["VGG", "ConvNet"], KINDS)
    rho, entries = nb04.rank_correlation(two.fillna(0.5), two)
    assert math.isnan(rho) and entries == 1


# =============================================================================================
# Notebook 02: convnet sharpness (more cases besides tests/test_convnet_sharpness_study.py)
# =============================================================================================
SWEEP_WIDTHS = (1, 2, 3, 4, 6, 8)
METRIC_NAMES = ("cross_entropy", "jacobian_norm", "hessian_norm")


def sweep_final(train, test) -> pd.DataFrame:
    return pd.DataFrame({"width": SWEEP_WIDTHS, "seed": 0, "train_error": train,
                         "test_error": test})


def sweep_volumes(curves: dict[str, list[float]]) -> pd.DataFrame:
    """Volumes 0 and 1 with one curve per subset (the same for every peaking metric), and an
    accuracy that rises with width."""
    return pd.DataFrame([
        {"volume": v, "subset": s, "width": w, "seed": 0, **dict.fromkeys(METRIC_NAMES, c),
         "accuracy": w / 8}
        for v in (0, 1) for s, curve in curves.items() for w, c in zip(SWEEP_WIDTHS, curve)])


BUMP = [0.1, 0.2, 0.3, 1.0, 0.3, 0.2]  # peak at width 4
SMALL_BUMP = [0.1, 0.2, 0.3, 0.5, 0.3, 0.2]
FLAT = [0.5] * 6


def sharpness_rows(curves: dict[str, list[float]], test=(0.3, 0.2, 0.25, 0.3, 0.2, 0.1),
                   margin: float = 0.05) -> list[dict]:
    claims = ClaimsTable("02")
    threshold = nb02.add_claims(claims, sweep_final([0.3, 0.2, 0.1, 0.0, 0.0, 0.0], list(test)),
                                sweep_volumes(curves), 0.005, margin, dataset="mnist5k", seeds=1)
    assert threshold == 4
    return claims.rows


def test_sharpness_noisy_peak_claim_needs_a_larger_noisy_prominence():
    rows = sharpness_rows({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP})
    assert len(rows) == 9 and all(r["holds"] for r in rows)
    assert rows[6]["measured"] == "prominence noisy 0.8 (peak at w = 4), clean 0.3 (peak at w = 4)"
    swapped = sharpness_rows({"all": BUMP, "clean": BUMP, "noisy": SMALL_BUMP})
    assert not any(r["holds"] for r in swapped[6:])
    # a noisy curve without a peak does not hold, even against a flat clean curve
    flat = sharpness_rows({"all": BUMP, "clean": FLAT, "noisy": FLAT})
    assert not any(r["holds"] for r in flat[6:])
    # nor does a noisy peak over a clean curve without one (Fig. 3: both peak)
    assert not any(r["holds"] for r in sharpness_rows({"all": BUMP, "clean": FLAT,
                                                       "noisy": BUMP})[6:])


def test_sharpness_peak_claims_use_the_given_margin():
    rows = sharpness_rows({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP})
    assert rows[1]["holds"]  # test error 0.3 at 4 over 0.2 before (33%) and 0.1 widest
    assert not sharpness_rows({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP},
                              margin=0.5)[1]["holds"]
    monotone = sharpness_rows({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP},
                              test=(0.6, 0.5, 0.4, 0.3, 0.2, 0.1))
    assert not monotone[1]["holds"] and monotone[3]["holds"]


def test_sharpness_peak_two_grid_steps_from_the_threshold_is_not_at_it():
    """The factor-2 window accepted a peak at w = 2 for the threshold w = 4; one grid step does not."""
    early = [0.1, 1.0, 0.3, 0.25, 0.2, 0.1]  # peak at w = 2, two grid steps below w_thr = 4
    rows = sharpness_rows({"all": early, "clean": SMALL_BUMP, "noisy": BUMP})
    assert not any(r["holds"] for r in rows[3:6])
    # and a peak at K = 0 alone is not enough: both K = 0 and the largest K must peak
    volumes = sweep_volumes({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP})
    volumes.loc[(volumes.volume == 1) & (volumes.subset == "all"), list(METRIC_NAMES)] = FLAT[0]
    claims = ClaimsTable("02")
    nb02.add_claims(claims, sweep_final([0.3, 0.2, 0.1, 0.0, 0.0, 0.0], [0.3, 0.2, 0.25, 0.3, 0.2,
                                                                          0.1]),
                    volumes, 0.005, 0.05, dataset="mnist5k", seeds=1)
    assert not any(r["holds"] for r in claims.rows[3:6])


def test_training_error_and_volume_accuracy_must_be_monotone():
    claims = ClaimsTable("02")
    volumes = sweep_volumes({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP})
    volumes.loc[volumes.width == 3, "accuracy"] = 0.6  # falls from 0.6 to 0.5 at w = 4
    # the training error rises from 0.1 at w = 2 to 0.2 at w = 3 before it reaches 0
    nb02.add_claims(claims, sweep_final([0.3, 0.1, 0.2, 0.0, 0.0, 0.0], [0.3, 0.2, 0.25, 0.3, 0.2,
                                                                          0.1]),
                    volumes, 0.005, 0.05, dataset="mnist5k", seeds=1)
    assert not claims.rows[0]["holds"] and "largest rise: 0.1 (to w = 3)" in claims.rows[0]["measured"]
    assert not claims.rows[2]["holds"] and "K = 0: largest drop: 0.1 (to w = 4)" in claims.rows[2]["measured"]
    monotone = sharpness_rows({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP})
    assert "largest rise: never" in monotone[0]["measured"] and "K = 0: largest drop: never" in monotone[2]["measured"]


# =============================================================================================
# The claims table's dataset, seeds and confidence columns
# =============================================================================================
NEW_COLUMNS = ["notebook", "claim", "role", "dataset", "seeds", "measured", "confidence",
               "criterion", "holds"]


def test_claims_csv_and_md_carry_dataset_seeds_and_confidence(tmp_path, monkeypatch):
    from ddlib.core.claims import NO_BAND
    from ddlib.core.report import render

    monkeypatch.setenv("DDLIB_REPORTS", str(tmp_path / "reports"))
    table = ClaimsTable("98_columns")
    table.add("a peak", "at 4", "argmax == 4", True, role="headline", dataset="mnist5k", seeds=3,
              confidence="mean ± std over 3 seeds: w = 4: 0.3 ± 0.01")
    table.add("a ratio", "x0.5", "< 0.9", False, role="secondary", dataset="cifar10", seeds=1,
              confidence=NO_BAND)
    table.add("a bound", "1e-20", "< 1e-12", True, role="implementation check",
              dataset="diabetes", seeds=50)
    table.save(tmp_path / "98_columns")
    frame = pd.read_csv(tmp_path / "98_columns" / "claims.csv", keep_default_na=False)
    assert list(frame.columns) == NEW_COLUMNS
    assert frame["dataset"].tolist() == ["mnist5k", "cifar10", "diabetes"]
    assert frame["role"].tolist() == ["headline", "secondary", "implementation check"]
    assert frame["seeds"].tolist() == [3, 1, 50]
    assert frame["confidence"].tolist() == ["mean ± std over 3 seeds: w = 4: 0.3 ± 0.01",
                                            "1 seed, no band", ""]
    markdown = (tmp_path / "98_columns" / "claims.md").read_text()
    assert "| claim | role | dataset | seeds | measured | confidence | criterion | holds |" in markdown
    assert "| a ratio | secondary | cifar10 | 1 | x0.5 | 1 seed, no band | < 0.9 | **no** |" in markdown
    assert "| a bound | implementation check | diabetes | 50 | 1e-20 |  | < 1e-12 | yes |" in markdown
    html = table._repr_html_()
    assert all(f"<th>{c}</th>" in html for c in NEW_COLUMNS[1:])
    success = {"run_at": "2026-12-07 10:00:00 UTC", "commit": "abc", "seconds": 1, "overrides": [],
               "rows": table.rows}
    report = render("smoke", {"notebooks": {"98_columns": {"last_success": success}}})
    assert list(report.columns)[:len(NEW_COLUMNS)] == NEW_COLUMNS
    assert report["holds"].tolist() == [True, False, True]
    gathered = (tmp_path / "reports" / "smoke" / "claims.md").read_text()
    assert ("1 of 1 headline claims hold; 1 of 2 claims hold in all; "
            "1 of 1 implementation checks pass") in gathered
    assert "| a bound | implementation check | diabetes | 50 | 1e-20 |  | < 1e-12 | yes |" in gathered
    written = pd.read_csv(tmp_path / "reports" / "smoke" / "claims.csv")
    assert list(written.columns)[:len(NEW_COLUMNS)] == NEW_COLUMNS


def test_report_takes_over_an_old_claims_csv_without_the_new_columns(tmp_path, monkeypatch):
    """A report gathered by an older version (no attempts.json, no dataset column) keeps its rows."""
    from ddlib.core.report import _read_state, render

    monkeypatch.setenv("DDLIB_REPORTS", str(tmp_path))
    (tmp_path / "smoke").mkdir()
    pd.DataFrame([{"notebook": "01", "claim": "c", "measured": "m", "criterion": "k",
                   "holds": True}]).to_csv(tmp_path / "smoke" / "claims.csv", index=False)
    report = render("smoke", _read_state("smoke"))
    assert list(report.columns)[:len(NEW_COLUMNS)] == NEW_COLUMNS
    assert report["dataset"].tolist() == [""] and report["commit"].tolist() == ["unknown"]
    assert "| c |  |  |  | m |  | k | yes |" in (tmp_path / "smoke" / "claims.md").read_text()


@pytest.mark.parametrize("kwargs", [
    pytest.param({"seeds": 1, "role": "headline"}, id="no dataset"),
    pytest.param({"dataset": "toy", "role": "headline"}, id="no seeds"),
    pytest.param({"dataset": "toy", "seeds": 1}, id="no role"),
])
def test_add_requires_role_dataset_and_seeds(kwargs):
    with pytest.raises(TypeError, match="role|dataset|seeds"):
        ClaimsTable("99").add("c", "m", "k", True, **kwargs)
    with pytest.raises(TypeError):
        ClaimsTable("99").add("c", "m", "k", True)


def test_add_refuses_an_unknown_role():
    with pytest.raises(ValueError, match="role='main' is not allowed; use one of"):
        ClaimsTable("99").add("c", "m", "k", True, role="main", dataset="toy", seeds=1)


@pytest.mark.parametrize(("dataset", "seeds", "message"), [
    ("", 1, "dataset=''"),
    ("  ", 1, "dataset="),
    (None, 1, "dataset=None"),
    ("toy", 0, "seeds=0"),
    ("toy", 1.0, "seeds=1.0"),
    ("toy", True, "seeds=True"),
])
def test_add_refuses_an_empty_dataset_or_a_bad_seed_count(dataset, seeds, message):
    table = ClaimsTable("99")
    with pytest.raises(ValueError, match=message):
        table.add("c", "m", "k", True, role="headline", dataset=dataset, seeds=seeds)
    assert table.rows == []


def test_every_study_row_names_its_dataset_and_seeds():
    nb04_all = nb04_rows()
    assert {r["dataset"] for r in nb04_all} == {"mnist5k"} and {r["seeds"] for r in nb04_all} == {2}
    assert "seeded bootstrap (seed 0, 1000 draws)" in nb04_all[0]["confidence"]
    assert nb04_all[0]["confidence"].startswith("diagonal - row cross mean over 4 architectures")
    assert "seeded bootstrap" in nb04_all[1]["confidence"]
    assert "no band" in nb04_all[2]["confidence"]  # test error: the table holds seed means only
    assert all("bootstrap interval over 8 planes" in r["confidence"] for r in nb04_all[3:5])
    assert all("no band" in r["confidence"] for r in nb04_all[5:7])
    assert nb04_all[7]["confidence"] == ""


def test_nb04_width_rows_take_their_own_dataset_and_seed_count():
    claims = ClaimsTable("04")
    nb04.add_claims(claims, REFERENCE_MATRIX, KINDS, optimizer_results(), distillation_results(),
                    width_results(), {0.0: 3, 0.2: 4}, 0.8, 10, 0.05, dataset="mnist5k",
                    seeds=2, width_seeds=3, width_planes=width_planes(width_results()),
                    width_dataset="mnist5k (500 images)")
    assert [r["dataset"] for r in claims.rows] == (["mnist5k"] * 2 + ["mnist5k (500 images)"] * 3
                                                   + ["mnist5k"] * 3)
    assert [r["seeds"] for r in claims.rows] == [2, 2, 3, 3, 3, 2, 2, 2]


def test_nb04_bootstrap_interval_is_seeded_and_brackets_the_difference():
    first = nb04_rows()[0]["confidence"]
    assert nb04_rows()[0]["confidence"] == first  # deterministic
    low, high = (float(v) for v in first.split("[")[-1].rstrip("]").split(", "))
    matrix = REFERENCE_MATRIX.to_numpy()
    off = ~np.eye(4, dtype=bool)
    differences = [matrix[i, i] - matrix[i, off[i]].mean() for i in range(4)]
    assert low <= float(np.mean(differences)) <= high


def test_nb02_confidence_is_the_seed_band_at_the_compared_widths():
    final = pd.concat([sweep_final([0.3, 0.2, 0.1, 0.0, 0.0, 0.0], [0.3, 0.2, 0.25, 0.3, 0.2, 0.1])
                       .assign(seed=s, test_error=lambda t, s=s: t.test_error + 0.01 * s)
                       for s in (0, 1)], ignore_index=True)
    volumes = sweep_volumes({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP})
    claims = ClaimsTable("02")
    nb02.add_claims(claims, final, pd.concat([volumes, volumes.assign(seed=1)]), 0.005, 0.05,
                    dataset="mnist5k", seeds=2)
    rows = claims.rows
    assert len(rows) == 9 and {r["seeds"] for r in rows} == {2}
    # test error: lowest smaller width 2 (0.2, 0.21), peak 4 (0.3, 0.31), widest 8 (0.1, 0.11)
    assert rows[1]["confidence"] == ("mean ± std over 2 seeds: w = 2: 0.205 ± 0.005; "
                                     "w = 4: 0.305 ± 0.005; w = 8: 0.105 ± 0.005")
    assert rows[0]["confidence"].startswith("mean ± std over 2 seeds: w = 3: 0.1 ± 0")
    assert rows[6]["confidence"].startswith("noisy mean ± std over 2 seeds: w = 4: 1 ± 0")
    one_seed = sharpness_rows({"all": BUMP, "clean": SMALL_BUMP, "noisy": BUMP})
    assert {r["confidence"] for r in one_seed} == {"1 seed, no band", ""}  # "" for the accuracy


def test_nb04_width_peak_must_clear_its_margin_in_the_bootstrap_over_planes():
    """The seed means show the fragmentation peak by more than the margin, but half the planes
    show it 10x and half not at all: the bootstrap interval reaches below 0, so the claim fails,
    while the same means with tightly agreeing planes hold."""
    widths = width_results()
    tight = nb04_rows(widths=widths)
    assert tight[3]["holds"] and tight[4]["holds"]
    planes = width_planes(widths)
    noisy = planes["fragmentation"].copy()
    mean = noisy.mean(axis=1)
    rng = np.random.default_rng(1)
    for row in noisy.index:  # the same means, planes far apart (each an independent draw)
        noisy.loc[row] = mean[row] + rng.normal(0.0, 3.0, noisy.shape[1])
    noisy = noisy.sub(noisy.mean(axis=1), axis=0).add(mean, axis=0)  # exact means again
    loose = nb04_rows(widths=widths, planes={**planes, "fragmentation": noisy})
    assert tight[3]["measured"] == loose[3]["measured"]  # the point estimate is unchanged
    assert not loose[3]["holds"]
    low = float(loose[3]["confidence"].split("[")[1].split(",")[0])
    assert low < 0


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
    import torch

    from ddlib.studies.decision_regions.experiment import width_plane_values, width_table

    uniform = torch.zeros(3, 3, dtype=torch.long)
    corner = uniform.clone()
    corner[0, 0] = 1
    checker = torch.tensor([[0, 1, 0], [1, 0, 1], [0, 1, 0]])
    predictions = {(0.2, 4, 0): torch.stack([uniform, checker]),
                   (0.2, 4, 1): torch.stack([uniform, checker]),
                   (0.2, 4, 2): torch.stack([corner, checker]),
                   (0.2, 8, 0): torch.stack([corner, checker])}
    runs = {key: _FinishedRun(0.0, 0.5) for key in predictions}
    values = width_plane_values(runs, predictions)
    fragments, similarity = values["fragmentation"], values["similarity"]
    assert fragments.loc[(0.2, 4)].tolist() == pytest.approx([4 / 3, 2.0])
    assert fragments.loc[(0.2, 8)].tolist() == pytest.approx([2.0, 2.0])
    assert similarity.loc[(0.2, 4)].tolist() == pytest.approx([25 / 27, 1.0])
    assert (0.2, 8) not in similarity.index  # one seed: no pair
    table = width_table(runs, predictions).set_index(["label_noise", "width"])
    assert table.loc[(0.2, 4), "fragmentation"] == pytest.approx(fragments.loc[(0.2, 4)].mean())
    assert table.loc[(0.2, 4), "similarity"] == pytest.approx(similarity.loc[(0.2, 4)].mean())
    assert table.loc[(0.2, 4), "test_error_std"] == 0.0


def test_width_test_error_row_reports_its_seed_spread():
    widths = width_results().assign(test_error_std=0.02)
    rows = nb04_rows(widths=widths)
    assert rows[2]["confidence"].startswith("std over 2 seeds: 0.02 at the peak")
