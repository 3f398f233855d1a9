"""The claim rules of notebook 01 (``ddlib.studies.linear_double_descent.claims``) on synthetic
per-repeat tables with known answers: every rule is checked both ways (a case that holds and a
minimally changed one that does not), including cases where the point estimate passes and only
the bootstrap interval fails. No data loading."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ddlib.core.claims import ClaimsTable
from ddlib.core.data import RegressionData
from ddlib.studies.linear_double_descent import claims as nb01

D = 4
NS = range(1, 11)
# Repeat r multiplies every curve by FACTORS[r] (median 1): every ratio of medians (peak heights,
# harms relative to their scale) is then the same in every bootstrap resample, so a rule's
# decision on these tables is exact.
FACTORS = (0.8, 0.9, 1.0, 1.0, 1.1, 1.25)
# c(D // 2) = c(2 D) = 1, so the peak height c(D) / sqrt(c(D/2) c(2D)) is c(D) itself.
TEST = {1: 1.0, 2: 1.0, 3: 3.0, 4: 10.0, 5: 3.0, 6: 1.5, 7: 1.2, 8: 1.0, 9: 0.9, 10: 0.8}
CUTOFF = {**TEST, 3: 1.1, 4: 1.4, 5: 1.1, 6: 1.0, 7: 1.0}  # height 1.4
SUBSPACE = {**TEST, 3: 1.1, 4: 1.3, 5: 1.1, 6: 1.0, 7: 1.0}  # height 1.3
NO_RESIDUAL = {n: (1.0 / n if n < D else 1e-20) for n in NS}
SIGMA = {1: 3.0, 2: 2.0, 3: 1.0, 4: 0.01, 5: 0.5, 6: 1.0, 7: 1.5, 8: 2.0, 9: 2.5, 10: 3.0}
BUMP = {n: 1.0 / (1 + abs(n - D)) for n in NS}  # the harm of an adversary, largest at N = D
SCALES = (0.0, 1.0, 10.0)
Y = np.array([2.0, -2.0, 2.0, -2.0])  # mean y^2 = 4: "~0" means < 4e-12


def regression_data(name: str = "toy", dims: int = D) -> RegressionData:
    return RegressionData(name, np.zeros((len(Y), dims)), Y)


def rows(quantity: str, curve: dict, setting: float = 0.0, *, dataset: str = "toy",
         dims: int = D, values: dict | None = None) -> list[dict]:
    """The per-repeat rows of one curve: ``curve[N] * FACTORS[r]``, or ``values[N][r]`` where given."""
    out = []
    for n, level in curve.items():
        per_repeat = (values or {}).get(n, [level * f for f in FACTORS])
        out += [{"dataset": dataset, "N": n, "D": dims, "repeat": r, "quantity": quantity,
                 "setting": float(setting), "value": float(v)} for r, v in enumerate(per_repeat)]
    return out


def adversary(a: float, harm: dict | None = None) -> dict:
    return {n: TEST[n] + a ** 2 * (BUMP if harm is None else harm)[n] for n in NS}


def table(*, test=None, test_values=None, cutoff=None, cutoff_values=None, subspace=None,
          no_residual=None, sigma=None, sigma_values=None, adversarial=None,
          dataset: str = "toy") -> pd.DataFrame:
    """A per-repeat table as :func:`ddlib.metrics.linear.sweep` writes it (cut-off 0.1; ranks
    2, 3 and D; scales SCALES for both adversaries unless ``adversarial`` maps (kind, a) to a curve)."""
    test = TEST if test is None else test
    out = rows("test_mse", test, values=test_values, dataset=dataset)
    out += rows("test_mse_cutoff", CUTOFF if cutoff is None else cutoff, 0.1,
                values=cutoff_values, dataset=dataset)
    for k, curve in ({2: SUBSPACE, 3: SUBSPACE, D: test} if subspace is None else subspace).items():
        out += rows("test_mse_subspace", curve, k, dataset=dataset)
    out += rows("test_mse_no_residual", NO_RESIDUAL if no_residual is None else no_residual,
                dataset=dataset)
    out += rows("sigma_min", SIGMA if sigma is None else sigma, values=sigma_values,
                dataset=dataset)
    curves = adversarial or {(kind, a): adversary(a) for kind in ("test", "train") for a in SCALES}
    for (kind, a), curve in curves.items():
        out += rows(nb01.ADVERSARIES[kind][0], curve, a, dataset=dataset)
    return pd.DataFrame(out)


def dataset_rows(frame: pd.DataFrame, cutoff: float = 0.1) -> dict[str, dict]:
    """The eight per-dataset rows, by rule."""
    claims = ClaimsTable("01")
    nb01.add_dataset_claims(claims, "toy", regression_data(), frame, cutoff, seeds=len(FACTORS))
    names = ["peak", "cutoff", "subspace", "no_residual_peak", "no_residual_identity", "sigma",
             "adversarial_test", "adversarial_train"]
    assert len(claims.rows) == len(names)
    return dict(zip(names, claims.rows))


def outlier_values(level_high: float, level_low: float) -> dict[int, list[float]]:
    """N = D where half the repeats are ``level_high`` and half ``level_low``: the median is their
    mean, but a bootstrap resample with four or more low repeats has the low median."""
    return {D: [level_high] * 3 + [level_low] * 3}


def test_reference_table_satisfies_every_dataset_rule():
    found = dataset_rows(table())
    assert {name: row["holds"] for name, row in found.items()} == dict.fromkeys(found, True)
    assert found["peak"]["measured"] == "peak at N = 4 (D = 4); height 10"
    assert found["peak"]["confidence"].startswith("peak height: 90% two-sided seeded bootstrap "
                                                  "over 6 repeats")
    assert found["peak"]["confidence"].endswith("[10, 10]")
    assert found["cutoff"]["measured"] == "peak height 10 -> 1.4"
    assert found["subspace"]["measured"] == "peak height 10 -> 1.3 (largest over ranks k 2, 3: 2)"
    assert found["no_residual_identity"]["role"] == "implementation check"
    assert {found[n]["role"] for n in ("peak", "cutoff", "subspace", "no_residual_peak")} == \
        {"headline"}
    assert found["adversarial_test"]["role"] == found["sigma"]["role"] == "secondary"
    assert "median harm at N = D from a = 0: 0, 1, 100" in found["adversarial_test"]["measured"]


@pytest.mark.parametrize(("peak_at", "holds"), [(3, True), (4, True), (5, True), (6, False),
                                                (2, False)])
def test_fig1_peak_must_sit_within_one_grid_step_of_d(peak_at, holds):
    shifted = {**TEST, 4: 3.0, peak_at: 50.0}
    assert dataset_rows(table(test=shifted, subspace={}))["peak"]["holds"] is holds


def test_fig1_peak_height_is_decided_by_its_lower_bound_not_the_median():
    # Point estimate: median at N = D is (40 + 0.5) / 2 = 20 > 1; the interval reaches 0.5 < 1.
    row = dataset_rows(table(test_values=outlier_values(40.0, 0.5)))["peak"]
    assert "height 20.2" in row["measured"] and not row["holds"]
    assert dataset_rows(table(test_values=outlier_values(40.0, 2.0)))["peak"]["holds"]


@pytest.mark.parametrize(("after", "holds"), [(1.4, True), (1.6, False), (9.0, False),
                                              (10.0, False), (12.0, False)])
def test_cutoff_rule_needs_a_decided_reduction_and_no_visible_peak_left(after, holds):
    """1.4: lowered and below 1.5; 1.6 and 9: lowered (decided) but a visible peak is left;
    10 and 12: not lowered."""
    row = dataset_rows(table(cutoff={**CUTOFF, 4: after}))["cutoff"]
    assert row["holds"] is holds
    assert row["measured"] == f"peak height 10 -> {after:.3g}"


def test_cutoff_rule_fails_when_only_the_point_estimate_is_reduced():
    # The cut-off doubles the peak in half the repeats and removes it in the others: the medians
    # drop (10 -> 8.5), but a resample drawing four or more of the first repeats rises.
    noisy = {D: [20.0 * f for f in FACTORS[:3]] + [1.0, 1.0, 1.0]}
    paired = {D: [10.0 * f for f in FACTORS[:3]] + [10.0, 11.0, 12.5]}
    row = dataset_rows(table(cutoff_values=noisy, test_values=paired))["cutoff"]
    assert not row["holds"]


def test_cutoff_rule_reads_the_curve_of_the_given_cutoff():
    frame = pd.concat([table(), pd.DataFrame(rows("test_mse_cutoff", TEST, 1.0))],
                      ignore_index=True)
    assert dataset_rows(frame, cutoff=0.1)["cutoff"]["holds"]
    assert not dataset_rows(frame, cutoff=1.0)["cutoff"]["holds"]


def test_subspace_rule_fails_when_a_rank_leaves_a_visible_peak():
    lowered = {**SUBSPACE, 4: 3.5}  # k = 3 lowers the peak from 10 to 3.5, decidedly, but keeps one
    row = dataset_rows(table(subspace={2: SUBSPACE, 3: lowered, D: TEST}))["subspace"]
    assert not row["holds"] and "no visible peak" in row["criterion"]


def test_subspace_rule_needs_every_rank_below_d():
    kept_peak = {**SUBSPACE, 4: 10.0}  # k = 3 does not lower the peak
    row = dataset_rows(table(subspace={2: SUBSPACE, 3: kept_peak, D: TEST}))["subspace"]
    assert not row["holds"] and row["measured"].endswith("(largest over ranks k 2, 3: 3)")
    # ranks k >= D are no ablation: without any k < D the rule cannot hold
    row = dataset_rows(table(subspace={D: TEST, 6: TEST}))["subspace"]
    assert not row["holds"] and row["measured"] == "no ranks k swept"
    # a rank k >= D whose curve keeps the peak is not judged
    assert dataset_rows(table(subspace={2: SUBSPACE, D: TEST}))["subspace"]["holds"]


def test_no_residual_peak_rule_needs_no_peak_left():
    # Round-off large enough at N = D to make a bump over the flanks (0.5 at D/2, 1e-20 at 2D).
    bumped = {**NO_RESIDUAL, 4: 1e-9}
    row = dataset_rows(table(no_residual=bumped))["no_residual_peak"]
    assert not row["holds"] and "height after" in row["criterion"]
    assert dataset_rows(table())["no_residual_peak"]["holds"]


def test_no_residual_identity_uses_the_largest_repeat_for_n_at_least_d():
    # 3.3e-12 x 1.25 (the largest factor) = 4.1e-12, not < 1e-12 x mean y^2 = 4e-12
    above = dataset_rows(table(no_residual={**NO_RESIDUAL, 10: 3.3e-12}))["no_residual_identity"]
    assert not above["holds"] and above["measured"] == "largest over repeats 4.1e-12 (mean y^2 = 4)"
    below = dataset_rows(table(no_residual={**NO_RESIDUAL, 10: 3.1e-12}))["no_residual_identity"]
    assert below["holds"]
    # N < D is outside the claim
    assert dataset_rows(table(no_residual={**NO_RESIDUAL, 3: 1e6}))["no_residual_identity"]["holds"]


def test_sigma_rule_needs_the_argmin_at_d_and_a_decided_dip():
    moved = dataset_rows(table(sigma={**SIGMA, 4: 0.5, 5: 0.01}))["sigma"]
    assert not moved["holds"] and moved["measured"] == "minimum at N = 5"
    # the median at N = D is the lowest (0.255 < 0.5), but half the repeats sit at 0.5 and above
    noisy = dataset_rows(table(sigma_values={D: [0.01, 0.01, 0.01, 0.5, 0.6, 0.7]}))["sigma"]
    assert noisy["measured"] == "minimum at N = 4" and not noisy["holds"]


@pytest.mark.parametrize("kind", ["test", "train"])
def test_adversarial_rule_fails_for_an_attack_that_does_nothing(kind):
    # The attacked error peaks at N = D (it is the un-attacked error) but the harm is 0.
    curves = {(k, a): adversary(a) for k in ("test", "train") for a in SCALES}
    curves.update({(kind, a): TEST for a in SCALES})
    row = dataset_rows(table(adversarial=curves))[f"adversarial_{kind}"]
    assert not row["holds"]


def test_adversarial_rule_needs_every_argmax_within_one_step_of_d():
    late = {n: 1.0 / (1 + abs(n - D - 2)) for n in NS}  # harm largest at N = D + 2
    curves = {(k, a): adversary(a) for k in ("test", "train") for a in SCALES}
    curves[("test", 1.0)] = adversary(1.0, late)
    found = dataset_rows(table(adversarial=curves))
    assert not found["adversarial_test"]["holds"] and found["adversarial_train"]["holds"]
    assert "[6, 4]" in found["adversarial_test"]["measured"]
    curves[("test", 1.0)] = adversary(1.0, {n: 1.0 / (1 + abs(n - D - 1)) for n in NS})
    assert dataset_rows(table(adversarial=curves))["adversarial_test"]["holds"]


def test_adversarial_rule_needs_the_harm_at_d_to_grow_with_a():
    curves = {(k, a): adversary(a) for k in ("test", "train") for a in SCALES}
    # at a = 1 the harm at N = D is negative: the attack helps there (a -> harm 0, -0.5, 100)
    curves[("train", 1.0)] = {**adversary(1.0), 4: TEST[4] - 0.5}
    assert not dataset_rows(table(adversarial=curves))["adversarial_train"]["holds"]
    # a larger a doing less harm than a smaller one is no growth either
    curves[("train", 1.0)] = adversary(1.0, {n: 200 * b for n, b in BUMP.items()})
    assert not dataset_rows(table(adversarial=curves))["adversarial_train"]["holds"]


def test_adversarial_growth_is_decided_by_the_interval_at_the_largest_a():
    # The harm at N = D for a = 10 is positive in half the repeats only (median 50 > 0).
    curves = {(k, a): adversary(a) for k in ("test", "train") for a in SCALES}
    frame = table(adversarial=curves)
    mask = ((frame.quantity == "test_mse_adversarial_test") & (frame.setting == 10.0)
            & (frame.N == D))
    base = frame[(frame.quantity == "test_mse") & (frame.N == D)]["value"].to_numpy()
    frame.loc[mask, "value"] = base + np.array([100.0, 100.0, 100.0, 0.0, 0.0, 0.0])
    row = dataset_rows(frame)["adversarial_test"]
    assert "1, 50" in row["measured"] and not row["holds"]


def polynomial_table(medians: dict[int, float], spread: tuple = (1.0, 0.5, 1.5)) -> pd.DataFrame:
    """Draws per degree whose median and mean are ``medians[p]`` (with the default spread)."""
    out = [{"degree": p, "repeat": r, "train_mse": 0.0, "test_mse": value * s}
           for p, value in medians.items() for r, s in enumerate(spread)]
    return pd.DataFrame(out).sample(frac=1.0, random_state=0)  # order must not matter


def polynomial_medians(peak: int = 15, wide: float = 0.5) -> dict[int, float]:
    medians = {p: 0.1 * p for p in range(1, 26)}
    medians[peak] = 100.0
    medians.update({30: wide, 40: wide, 200: wide})
    return medians


def polynomial_row(frame: pd.DataFrame) -> dict:
    claims = ClaimsTable("01")
    nb01.add_polynomial_claim(claims, frame)
    (row,) = claims.rows
    return row


@pytest.mark.parametrize(("peak", "wide", "holds"), [
    (15, 0.5, True), (14, 0.5, True), (16, 0.5, True), (17, 0.5, False), (13, 0.5, False),
    # draws wide x (1, 0.5, 1.5): the bootstrap's 95% quantile of the mean is wide x 4/3
    (15, 0.74, True),  # 0.987
    (15, 0.76, False),  # 1.013: the point mean is below 1, the upper bound is not
])
def test_polynomial_rule_peak_at_15_and_mean_below_1_beyond_25(peak, wide, holds):
    row = polynomial_row(polynomial_table(polynomial_medians(peak, wide)))
    assert row["holds"] is holds
    assert row["measured"].startswith(f"peak at P = {peak}; mean for P > 25: P = 30: {wide:.3g}")


def test_polynomial_rule_checks_every_degree_beyond_25_not_only_the_widest():
    medians = {**polynomial_medians(), 40: 2.0}
    assert not polynomial_row(polynomial_table(medians))["holds"]
    assert not polynomial_row(polynomial_table({p: v for p, v in medians.items() if p <= 25}))[
        "holds"]  # no degree beyond 25: nothing shows the second half


def test_polynomial_rule_reads_the_mean_beyond_25_and_the_median_at_the_peak():
    # beyond 25: median 0.5 but one draw of 5: mean 2 > 1
    frame = polynomial_table(polynomial_medians())
    frame.loc[(frame.degree == 30) & (frame.repeat == 2), "test_mse"] = 5.0
    assert not polynomial_row(frame)["holds"]
    # at the threshold: one huge draw at P = 5 moves the mean's argmax there, not the median's
    frame = polynomial_table(polynomial_medians())
    frame.loc[(frame.degree == 5) & (frame.repeat == 2), "test_mse"] = 1e12
    assert polynomial_row(frame)["holds"]


@pytest.mark.parametrize(("distance", "holds"), [(1e-13, True), (9.9e-9, True), (1e-8, False),
                                                 (0.3, False)])
def test_gradient_descent_check_needs_a_relative_distance_below_1e_8(distance, holds):
    claims = ClaimsTable("01")
    check = {"N": 10, "D": 20, "seed": 0, "steps": 585, "relative_distance": distance}
    assert nb01.gradient_descent_finds_min_norm(claims, check) is holds
    (row,) = claims.rows
    assert row["role"] == "implementation check"
    assert row["dataset"] == "synthetic Gaussian (N = 10, D = 20, seed 0)"
    assert "no interval" in row["confidence"]


def test_add_claims_covers_every_dataset_in_order_then_polynomial_and_gradient_descent():
    sets = {"toy": regression_data("toy"), "other": regression_data("other")}
    frame = pd.concat([table(dataset="toy"), table(dataset="other")], ignore_index=True)
    claims = ClaimsTable("01")
    nb01.add_claims(claims, sets, frame, polynomial_table(polynomial_medians()),
                    {"toy": 0.1, "other": 0.1},
                    {"N": 10, "D": 20, "seed": 0, "steps": 1, "relative_distance": 0.0},
                    seeds=len(FACTORS))
    assert len(claims.rows) == 18
    assert [r["claim"].split(":")[0] for r in claims.rows[:16]] == ["toy"] * 8 + ["other"] * 8
    assert claims.rows[16]["claim"].startswith("polynomial")
    assert claims.rows[17]["claim"].startswith("gradient descent")
    assert all(r["holds"] for r in claims.rows)


def test_every_row_names_its_dataset_and_repeats_and_the_interval_that_decided():
    found = dataset_rows(table())
    assert {r["dataset"] for r in found.values()} == {"toy"}
    assert {r["seeds"] for r in found.values()} == {len(FACTORS)}
    assert found["cutoff"]["confidence"].startswith(
        "log(height before / after): 90% two-sided seeded bootstrap over 6 repeats (train/test "
        "splits) (paired across N and the ablation (the same repeats with and without it); seed 0,"
        " 1000 resamples) [")
    assert "; height after: " in found["no_residual_peak"]["confidence"]
    assert "height after" not in found["cutoff"]["confidence"]  # reported, not judged
    assert found["no_residual_identity"]["confidence"].startswith("no interval")
    poly = polynomial_row(polynomial_table(polynomial_medians()))
    assert poly["seeds"] == 3 and poly["dataset"].startswith("polynomial")
    assert poly["confidence"].startswith("largest mean over P > 25: 90% two-sided seeded "
                                         "bootstrap over 3 seeded draws")


def test_upper_bound_rules_count_a_missing_value_against_the_claim():
    """A NaN in the data the interval is formed from must not make an upper-bound rule hold: the
    polynomial's "below 1 for every P > 25" and ablation 3's "no peak left"."""
    claims = ClaimsTable("01")
    draws = pd.DataFrame({"degree": [14, 15, 16, 30] * 3, "repeat": [0] * 4 + [1] * 4 + [2] * 4,
                          "test_mse": [2.0, 9.0, 2.0, 0.5] * 2 + [2.0, 9.0, 2.0, float("nan")]})
    assert not nb01.add_polynomial_claim(claims, draws)
    assert "inf]" in claims.rows[0]["confidence"]
