"""Notebook 02's claim rules (ddlib.studies.convnet_sharpness.claims) on synthetic sweeps with known
answers: every rule is checked where it must hold and on a minimally changed input where it must
fail, including inputs whose point estimate holds but whose bootstrap interval includes zero (the
interval decides). No training, no data loading."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from ddlib.analysis import bootstrap_peak_excess, peak_near_threshold
from ddlib.core.claims import ClaimsTable
from ddlib.studies.convnet_sharpness import claims as nb02
from ddlib.studies.convnet_sharpness.experiment import (
    SweepResult,
    class_group_errors,
    sweep_volume_means,
    volume_means,
)

WIDTHS = (1, 2, 3, 4, 6, 8)
TRAIN = (0.3, 0.2, 0.1, 0.0, 0.0, 0.0)  # threshold w = 4 at tolerance 0.005
THRESHOLD = 4
BUMP = (0.1, 0.2, 0.3, 1.0, 0.3, 0.2)  # peak at w = 4: prominence 0.8
SMALL_BUMP = (0.1, 0.2, 0.3, 0.5, 0.3, 0.2)  # prominence 0.3
FLAT = (0.5,) * 6
TEST_BUMP = (0.3, 0.2, 0.25, 0.3, 0.2, 0.1)  # peak 0.3 at w = 4, 0.2 before, 0.1 widest
FALLING = (0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
POINTS = 50  # every 5th point is noisy: 10 noisy, 40 clean
MARGIN = 0.05
COMMON = {"prefix": "", "dataset": "mnist5k", "seeds": 1}
EPOCHS = (1, 2, 4, 8, 16, 32, 64, 128)
EPOCH_DD = (0.8, 0.5, 0.4, 0.6, 0.7, 0.5, 0.3, 0.3)  # descent, ascent, second descent
FIRST_HALF = (0.8, 0.5, 0.4, 0.4, 0.5, 0.6, 0.7, 0.75)  # no second descent


def outcomes(errors, images: int = 1000, labels=None) -> pd.DataFrame:
    """Per-image outcomes whose test error at each width is exactly ``errors``: image i is wrong
    when i < error * images (the same images stay wrong as the error grows)."""
    labels = np.arange(images) % 10 if labels is None else np.asarray(labels)
    rows = [{"width": w, "seed": 0, "image": i, "label": int(labels[i]),
             "wrong": int(i < round(e * images))} for w, e in zip(WIDTHS, errors)
            for i in range(images)]
    return pd.DataFrame(rows)


def _signs(width: int, count: int) -> np.ndarray:
    """Balanced +-1 signs (mean exactly 0), shuffled per width."""
    signs = np.tile([1.0, -1.0], count // 2)
    np.random.default_rng(width).shuffle(signs)
    return signs


def points(clean=SMALL_BUMP, noisy=BUMP, noise: float = 0.01, volumes=(0, 1),
           count: int = POINTS) -> pd.DataFrame:
    """Per-point sharpness whose clean and noisy means are exactly ``clean`` and ``noisy`` at
    every width and volume (the same curve for each peaking metric); per-point noise of +-``noise``
    that differs between widths; accuracy rising with width."""
    is_noisy = np.arange(count) % 5 == 0
    rows = []
    for w, c, n in zip(WIDTHS, clean, noisy):
        values = np.where(is_noisy, n, c)
        for mask in (is_noisy, ~is_noisy):
            values[mask] += noise * _signs(w, int(mask.sum()))
        for volume in volumes:
            rows += [{"width": w, "seed": 0, "point": p, "noisy": bool(is_noisy[p]),
                      "volume": volume, **dict.fromkeys(nb02.PEAKING, float(values[p])),
                      "accuracy": w / 8} for p in range(count)]
    return pd.DataFrame(rows)


def epoch_tables(curve_at=lambda width, metric: EPOCH_DD) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Errors and checkpoint Jacobians with ``curve_at(width, metric)`` over :data:`EPOCHS`."""
    errors = pd.DataFrame([
        {"width": w, "seed": 0, "epoch": e, "train_error": t if e == EPOCHS[-1] else 0.5,
         "test_error": curve_at(w, "test_error")[i], "train_loss": curve_at(w, "train_loss")[i]}
        for w, t in zip(WIDTHS, TRAIN) for i, e in enumerate(EPOCHS)])
    jacobians = pd.DataFrame([
        {"width": w, "seed": 0, "epoch": e, "subset": "all",
         "jacobian_norm": curve_at(w, "jacobian_norm")[i]}
        for w in WIDTHS for i, e in enumerate(EPOCHS)])
    return errors, jacobians


def sweep(experiment: str = "main", test=TEST_BUMP, point_table=None, labels=None,
          corrupted=None) -> SweepResult:
    errors, jacobians = epoch_tables()
    final = errors[errors.epoch == EPOCHS[-1]].reset_index(drop=True)
    point_table = points() if point_table is None else point_table
    return SweepResult(experiment, "mnist5k", [], errors, final, sweep_volume_means(point_table),
                       jacobians, point_table, outcomes(test, labels=labels), 10, THRESHOLD,
                       corrupted)


def rows_of(rule, *args, **kwargs) -> dict:
    table = ClaimsTable("02")
    rule(table, *args, **{**COMMON, **kwargs})
    (row,) = table.rows
    return row


def bounds(confidence: str, which: int = -1) -> tuple[float, float]:
    text = confidence.split("[")[which].split("]")[0]
    low, high = (float(v) for v in text.split(", "))
    return low, high


# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
def test_unit_matrix_averages_seeds_per_unit_first():
    long = pd.DataFrame({"width": [1, 1, 1, 1, 2, 2, 2, 2], "seed": [0, 1, 0, 1] * 2,
                         "image": [0, 0, 1, 1] * 2, "wrong": [1, 0, 1, 1, 0, 0, 1, 0]})
    matrix = nb02.unit_matrix(long, "wrong", "image")
    assert matrix.to_numpy().tolist() == [[0.5, 1.0], [0.0, 0.5]]
    assert matrix.index.tolist() == [1, 2]


def test_sweep_volume_means_are_the_per_run_volume_means():
    table = points(noise=0.3)
    means = sweep_volume_means(table).set_index(["width", "subset", "volume"])
    run = volume_means(table[table.width == 4]).set_index(["subset", "volume"])
    assert means.loc[(4, "noisy", 1), "jacobian_norm"] == pytest.approx(1.0)
    assert means.loc[(4, "clean", 0), "hessian_norm"] == pytest.approx(0.5)
    assert means.loc[(4, "all", 0), "cross_entropy"] == pytest.approx(run.loc[("all", 0),
                                                                               "cross_entropy"])


def test_class_group_errors_split_the_test_images_by_corrupted_class():
    table = outcomes((0.5,) * 6, images=20)  # images 0..9 wrong: one of each class 0..9
    table.loc[table.image == 10, "wrong"] = 1  # and image 10 (class 0)
    groups = class_group_errors(table, (0, 1)).set_index(["classes", "width"])
    assert groups.loc[("corrupted", 1), "test_error"] == pytest.approx(3 / 4)
    assert groups.loc[("unperturbed", 1), "test_error"] == pytest.approx(8 / 16)


# ---------------------------------------------------------------------------------------------
# Fig. 2a: the threshold and the test-error peak
# ---------------------------------------------------------------------------------------------
def test_threshold_row_reads_monotonically_with_the_tolerance_as_slack():
    errors, _ = epoch_tables()
    final = errors[errors.epoch == EPOCHS[-1]]
    table = ClaimsTable("02")
    assert nb02.interpolation_threshold_reached(table, final, 0.005, **COMMON) == THRESHOLD
    assert table.rows[0]["holds"] and table.rows[0]["role"] == "secondary"
    rising = final.assign(train_error=[0.3, 0.1, 0.2, 0.0, 0.0, 0.0])  # rises by 0.1 at w = 3
    row = rows_of(nb02.interpolation_threshold_reached, rising, 0.005)
    assert not row["holds"] and "largest rise: 0.1 (to w = 3)" in row["measured"]
    assert rows_of(nb02.interpolation_threshold_reached, rising, 0.15)["holds"]
    assert not rows_of(nb02.interpolation_threshold_reached, final[final.width == 8],
                       0.005)["holds"]  # one width shows no trend


def test_test_error_peak_holds_when_its_interval_over_test_images_excludes_zero():
    row = rows_of(nb02.peak_of_test_error, outcomes(TEST_BUMP), THRESHOLD, MARGIN)
    assert row["holds"] and row["role"] == "headline"
    assert row["measured"].startswith("peak 0.3 at w = 4 (threshold 4); lowest before 0.2, "
                                      "widest 0.1; excess over the margin 0.085")
    assert row["confidence"].startswith("peak excess: 90% two-sided seeded bootstrap over 1000 "
                                        "test images (paired across widths; seed 0, 1000 resamples)")
    low, high = bounds(row["confidence"])
    assert 0 < low <= 0.085 <= high
    matrix = nb02.unit_matrix(outcomes(TEST_BUMP), "wrong", "image")
    exact = bootstrap_peak_excess(matrix, THRESHOLD, None, MARGIN, steps=1)
    assert (low, high) == tuple(float(f"{v:.3g}") for v in exact)  # the interval that decided


def test_test_error_peak_fails_when_only_the_point_estimate_clears_the_margin():
    # the same curve on 20 images: the point rule holds, the interval includes 0
    few = outcomes(TEST_BUMP, images=20)
    curve = nb02.unit_matrix(few, "wrong", "image").mean(axis=1)
    assert peak_near_threshold(curve, THRESHOLD, None, MARGIN, steps=1)["holds"]
    row = rows_of(nb02.peak_of_test_error, few, THRESHOLD, MARGIN)
    assert not row["holds"] and bounds(row["confidence"])[0] <= 0


def test_test_error_peak_fails_two_grid_steps_away_and_on_a_monotone_curve():
    early = (0.3, 0.4, 0.25, 0.2, 0.15, 0.1)  # peak at w = 2, two grid steps below w = 4
    assert not rows_of(nb02.peak_of_test_error, outcomes(early), THRESHOLD, MARGIN)["holds"]
    assert not rows_of(nb02.peak_of_test_error, outcomes(FALLING), THRESHOLD, MARGIN)["holds"]
    assert not rows_of(nb02.peak_of_test_error, outcomes(TEST_BUMP), None, MARGIN)["holds"]
    assert not rows_of(nb02.peak_of_test_error, outcomes(TEST_BUMP), THRESHOLD, 0.5)["holds"]


def test_augmented_test_error_peak_must_come_earlier_than_the_threshold():
    early = (0.3, 0.4, 0.25, 0.2, 0.15, 0.1)
    row = rows_of(nb02.peak_of_test_error, outcomes(early), THRESHOLD, MARGIN, earlier=True)
    assert row["holds"] and row["role"] == "secondary"
    assert row["claim"] == "test error peaks earlier than the threshold and falls for wider models"
    assert not rows_of(nb02.peak_of_test_error, outcomes(TEST_BUMP), THRESHOLD, MARGIN,
                       earlier=True)["holds"]


# ---------------------------------------------------------------------------------------------
# Fig. 2b: volume metrics
# ---------------------------------------------------------------------------------------------
def test_volume_peak_holds_at_both_volumes_with_intervals_over_points():
    row = rows_of(nb02.volume_metric_peaks, points(noisy=BUMP, clean=BUMP), "jacobian_norm",
                  THRESHOLD, MARGIN)
    assert row["holds"]
    assert row["measured"].startswith("K = 0: peak 1 at w = 4 (threshold 4); lowest before 0.1, "
                                      "widest 0.2; excess over the margin 0.75; K = 1: peak 1")
    assert "K = 0: 90% two-sided seeded bootstrap over 50 training points (paired across widths" \
        in row["confidence"]
    for which in (1, 2):
        assert 0 < bounds(row["confidence"], which)[0] <= 0.75 <= bounds(row["confidence"], which)[1]


def test_volume_peak_fails_when_one_volume_does_not_peak_or_the_interval_includes_zero():
    table = points(noisy=BUMP, clean=BUMP)
    table.loc[table.volume == 1, "jacobian_norm"] = 0.5
    assert not rows_of(nb02.volume_metric_peaks, table, "jacobian_norm", THRESHOLD,
                       MARGIN)["holds"]
    noisy = points(noisy=SMALL_BUMP, clean=SMALL_BUMP, noise=1.5)  # mean curve peaks, noisily
    row = rows_of(nb02.volume_metric_peaks, noisy, "jacobian_norm", THRESHOLD, MARGIN)
    assert "excess over the margin 0.275" in row["measured"] and not row["holds"]
    assert bounds(row["confidence"], 1)[0] <= 0
    assert not rows_of(nb02.volume_metric_peaks, points(noisy=BUMP, clean=BUMP), "jacobian_norm",
                       2, MARGIN)["holds"]  # two grid steps from the peak


def test_volume_accuracy_must_rise_monotonically():
    volumes = sweep_volume_means(points())
    assert rows_of(nb02.volume_accuracy_rises, volumes, 0.005)["holds"]
    volumes.loc[volumes.width == 3, "accuracy"] = 0.6  # falls from 0.6 to 0.5 at w = 4
    row = rows_of(nb02.volume_accuracy_rises, volumes, 0.005)
    assert not row["holds"] and "K = 0: largest drop: 0.1 (to w = 4)" in row["measured"]
    assert not rows_of(nb02.volume_accuracy_rises, volumes[volumes.width == 8], 0.005)["holds"]


# ---------------------------------------------------------------------------------------------
# Fig. 3: clean vs noisy points
# ---------------------------------------------------------------------------------------------
def test_noisy_peak_more_marked_holds_on_a_larger_noisy_prominence():
    row = rows_of(nb02.noisy_peak_more_marked, points(), "hessian_norm", THRESHOLD, MARGIN)
    assert row["holds"]
    assert row["measured"].startswith("K = 0: prominence noisy 0.8 (peak at w = 4), clean 0.3 "
                                      "(peak at w = 4); K = 1: ")
    low, high = bounds(row["confidence"])
    assert 0 < low <= 0.5 <= high
    assert "over 50 training points (paired across widths" in row["confidence"]


@pytest.mark.parametrize("clean, noisy, noise", [
    (BUMP, SMALL_BUMP, 0.01),  # swapped: the clean peak is the larger
    (FLAT, BUMP, 0.01),  # the clean curve does not peak (Fig. 3: both peak)
    (FLAT, FLAT, 0.01),  # neither peaks
    (SMALL_BUMP, BUMP, 3.0),  # larger noisy prominence, but the interval includes 0
])
def test_noisy_peak_more_marked_fails(clean, noisy, noise):
    row = rows_of(nb02.noisy_peak_more_marked, points(clean=clean, noisy=noisy, noise=noise),
                  "hessian_norm", THRESHOLD, MARGIN)
    assert not row["holds"]


def test_noisy_peak_more_marked_needs_both_volumes():
    table = points()
    table.loc[(table.volume == 1) & table.noisy, "cross_entropy"] = table.loc[
        (table.volume == 1) & ~table.noisy, "cross_entropy"].mean()
    assert not rows_of(nb02.noisy_peak_more_marked, table, "cross_entropy", THRESHOLD,
                       MARGIN)["holds"]


# ---------------------------------------------------------------------------------------------
# Fig. 5: epoch-wise double descent
# ---------------------------------------------------------------------------------------------
def epoch_row(curve_at, threshold=THRESHOLD) -> dict:
    errors, jacobians = epoch_tables(curve_at)
    curves = nb02.epoch_curves(SweepResult("main", "mnist5k", [], errors, errors, None,
                                           jacobians, None, None, 10, threshold))
    return rows_of(nb02.epoch_wise_double_descent, curves, threshold, MARGIN)


def test_epoch_wise_double_descent_holds_when_every_wide_model_shows_three_phases():
    row = epoch_row(lambda w, m: EPOCH_DD if w >= THRESHOLD else FIRST_HALF)
    assert row["holds"] and row["role"] == "headline"
    assert row["measured"].startswith("test error: w = 4: all three phases, w = 6: all three")
    # the threshold width itself counts ("past" includes w_thr: Fig. 5 marks w = 15 as both)
    assert not epoch_row(lambda w, m: EPOCH_DD if w > THRESHOLD else FIRST_HALF)["holds"]


@pytest.mark.parametrize("metric", ["test_error", "train_loss", "jacobian_norm"])
def test_epoch_wise_double_descent_fails_on_one_wide_model_without_a_second_descent(metric):
    row = epoch_row(lambda w, m: FIRST_HALF if (w, m) == (8, metric) else EPOCH_DD)
    assert not row["holds"] and "w = 8: no second descent" in row["measured"]


def test_epoch_wise_double_descent_needs_a_threshold_and_four_epochs():
    assert not epoch_row(lambda w, m: EPOCH_DD, threshold=None)["holds"]
    curves = {name: pd.DataFrame({w: [0.5, 0.4, 0.5] for w in WIDTHS}, index=[1, 2, 4])
              for name in nb02.EPOCH_METRICS}
    row = rows_of(nb02.epoch_wise_double_descent, curves, THRESHOLD, MARGIN)
    assert not row["holds"] and row["measured"] == "3 logged epochs: at least 4 are needed"


# ---------------------------------------------------------------------------------------------
# Fig. 7: asymmetric noise and random labels (paper profile)
# ---------------------------------------------------------------------------------------------
def test_widest_model_smoother_than_the_threshold_around_clean_and_noisy_points():
    row = rows_of(nb02.smoother_at_widest, points(), "jacobian_norm", THRESHOLD)
    assert row["holds"]
    assert row["measured"] == ("w_thr = 4 minus widest w = 8: K = 0 clean: drop 0.3; K = 0 noisy: "
                               "drop 0.8; K = 1 clean: drop 0.3; K = 1 noisy: drop 0.8")
    low, high = bounds(row["confidence"])
    assert 0 < low <= 0.3 <= high


@pytest.mark.parametrize("clean, noisy, noise", [
    (SMALL_BUMP, (0.1, 0.2, 0.3, 1.0, 0.3, 1.1), 0.01),  # noisy points sharper at the widest
    ((0.1, 0.2, 0.3, 0.5, 0.3, 0.6), BUMP, 0.01),  # clean points sharper at the widest
    (SMALL_BUMP, BUMP, 2.0),  # both fall on average, but the interval includes 0
])
def test_widest_model_smoother_fails(clean, noisy, noise):
    row = rows_of(nb02.smoother_at_widest, points(clean=clean, noisy=noisy, noise=noise),
                  "jacobian_norm", THRESHOLD)
    assert not row["holds"]
    assert not rows_of(nb02.smoother_at_widest, points(), "jacobian_norm", 8)["holds"]


def class_outcomes(unperturbed, corrupted, kept_images: int = 1600) -> pd.DataFrame:
    """Outcomes whose error is exactly ``unperturbed`` on ``kept_images`` images of class 5 and
    ``corrupted`` on 400 images of class 0 (a corrupted class)."""
    kept = outcomes(unperturbed, images=kept_images, labels=np.full(kept_images, 5))
    hit = outcomes(corrupted, images=400, labels=np.zeros(400, dtype=int))
    return pd.concat([kept, hit.assign(image=hit.image + kept_images)], ignore_index=True)


def test_class_groups_peak_on_unperturbed_classes_and_not_on_corrupted_ones():
    row = rows_of(nb02.class_group_double_descent, class_outcomes(TEST_BUMP, FALLING), (0, 1),
                  THRESHOLD, MARGIN)
    assert row["holds"]
    assert row["measured"].startswith("unperturbed: peak 0.3 at w = 4")
    assert "unperturbed: 90% two-sided seeded bootstrap over 1600 test images" in row["confidence"]
    assert "corrupted: 90% two-sided seeded bootstrap over 400 test images" in row["confidence"]


@pytest.mark.parametrize("unperturbed, corrupted, kept_images", [
    (FALLING, TEST_BUMP, 1600),  # swapped
    (TEST_BUMP, TEST_BUMP, 1600),  # the trend does not disappear on the corrupted classes
    (FALLING, FALLING, 1600),  # no double descent anywhere
    (TEST_BUMP, FALLING, 20),  # the unperturbed peak on 20 images: its interval includes 0
    # the corrupted classes' excess is -0.0005 (below the margin) but its interval over their 400
    # images, [-0.008, 0.008], includes 0: the trend is not shown to disappear, so no claim (a
    # rule reading the point estimate or the lower bound would hold here)
    (TEST_BUMP, (0.3, 0.2, 0.2, 0.21, 0.2, 0.19), 1600),
])
def test_class_groups_fail(unperturbed, corrupted, kept_images):
    table = class_outcomes(unperturbed, corrupted, kept_images)
    assert not rows_of(nb02.class_group_double_descent, table, (0, 1), THRESHOLD,
                       MARGIN)["holds"]


def test_chance_tolerance_is_half_the_chance_accuracy():
    assert nb02.chance_tolerance(10) == pytest.approx(0.05)
    assert nb02.chance_tolerance(100) == pytest.approx(0.005)


@pytest.mark.parametrize("error, holds", [
    (0.9, True),
    (0.87, True),  # 0.03 from chance, interval below 0.05
    (0.86, False),  # 0.04 from chance, but the interval's upper bound passes 0.05
    (0.8, False),
])
def test_test_error_close_to_chance(error, holds):
    errors = (0.9, error, 0.9, 0.9, 0.9, 0.9)
    row = rows_of(nb02.error_at_chance, outcomes(errors, images=2000), 10)
    assert row["holds"] is holds
    assert f"largest deviation {abs(error - 0.9):.3g}" in row["measured"]
    assert bounds(row["confidence"])[1] >= abs(error - 0.9)


# ---------------------------------------------------------------------------------------------
# add_claims: which rows each setting gets
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def fewer_resamples(monkeypatch):
    """100 resamples instead of 1,000: these tests check which rows each setting gets, not their
    intervals (the rules' own tests use the full bootstrap)."""
    monkeypatch.setattr(nb02, "bootstrap_peak_excess",
                        functools.partial(nb02.bootstrap_peak_excess, resamples=100))
    monkeypatch.setattr(nb02, "bootstrap_interval",
                        functools.partial(nb02.bootstrap_interval, resamples=100))


def claim_rows(result: SweepResult) -> list[dict]:
    table = ClaimsTable("02")
    assert nb02.add_claims(table, result, 0.005, MARGIN) == THRESHOLD
    return table.rows


def test_main_sweep_rows_and_roles(fewer_resamples):
    rows = claim_rows(sweep())
    assert [r["claim"].split(" ")[0:3] for r in rows][:3] == [
        ["training", "error", "falls"], ["test", "error", "peaks"], ["accuracy", "over", "volumes"]]
    assert len(rows) == 10 and all(r["holds"] for r in rows)
    assert [r["role"] for r in rows] == ["secondary"] + ["headline"] * 9
    assert rows[-1]["claim"].startswith("models at and past the threshold undergo epoch-wise")


def test_paper_profile_settings_get_their_own_rows(fewer_resamples):
    all_noisy = points().assign(noisy=True)
    random = claim_rows(sweep("random_labels", test=(0.9,) * 6, point_table=all_noisy))
    assert [r["claim"] for r in random][1] == "[random_labels] test error stays close to random " \
                                              "chance at every width"
    assert len(random) == 5 and all(r["holds"] for r in random)
    asymmetric = claim_rows(sweep("asymmetric", test=(0.5,) * 6, corrupted=(0, 1)))
    assert len(asymmetric) == 4 and asymmetric[1]["claim"].startswith("[asymmetric] test error "
                                                                      "peaks near the threshold on")
    resnet = claim_rows(sweep("resnet18"))
    assert resnet[1]["role"] == "secondary" and not resnet[1]["holds"]  # the peak is at w_thr
    assert resnet[-1]["role"] == "secondary" and len(resnet) == 10
    cifar100 = claim_rows(sweep("cifar100", point_table=points().assign(noisy=False)))
    assert len(cifar100) == 6


def test_rows_are_the_same_with_and_without_a_threshold(fewer_resamples):
    fitted = claim_rows(sweep())
    unfitted = sweep()
    unfitted.final = unfitted.final.assign(train_error=0.3)
    table = ClaimsTable("02")
    assert nb02.add_claims(table, unfitted, 0.005, MARGIN) is None
    assert [r["claim"] for r in table.rows] == [r["claim"] for r in fitted]
    # without a threshold only the accuracy row (which needs none) can hold
    assert [r["holds"] for r in table.rows] == [False, False, True] + [False] * 7


def test_threshold_row_reports_the_seed_band_below_and_at_the_threshold():
    errors, _ = epoch_tables()
    final = errors[errors.epoch == EPOCHS[-1]]
    two = pd.concat([final, final.assign(seed=1, train_error=final.train_error * 2)])
    row = rows_of(nb02.interpolation_threshold_reached, two, 0.005, seeds=2)
    assert row["confidence"] == "mean ± std over 2 seeds: w = 3: 0.15 ± 0.05; w = 4: 0 ± 0"
