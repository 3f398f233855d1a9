"""Notebook 01 maths against numpy's lstsq / pinv and exact identities."""

import numpy as np
import pytest

from ddlib.core.data import RegressionData, load_regression, student_teacher
from ddlib.metrics import linear


def random_problem(N: int, D: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, D)), rng.normal(size=N)


@pytest.mark.parametrize("N,D", [(5, 12), (12, 12), (30, 7)])
def test_min_norm_solution_matches_lstsq_and_pinv(N, D):
    X, y = random_problem(N, D)
    beta = linear.min_norm_solution(X, y)
    np.testing.assert_allclose(beta, np.linalg.lstsq(X, y, rcond=None)[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(beta, np.linalg.pinv(X) @ y, rtol=1e-8, atol=1e-10)


def test_min_norm_solution_is_batched():
    problems = [random_problem(6, 9, seed) for seed in range(4)]
    X, y = np.stack([p[0] for p in problems]), np.stack([p[1] for p in problems])
    batched = linear.min_norm_solution(X, y)
    for i, (Xi, yi) in enumerate(problems):
        np.testing.assert_allclose(batched[i], np.linalg.pinv(Xi) @ yi, atol=1e-10)


def test_cutoff_keeps_only_large_modes():
    """Ablation 1 on a diagonal design: modes below c are dropped exactly."""
    X = np.diag([3.0, 1.0, 0.01])
    y = np.array([3.0, 2.0, 5.0])
    np.testing.assert_allclose(linear.min_norm_solution(X, y, cutoff=0.1), [1.0, 2.0, 0.0])
    np.testing.assert_allclose(linear.min_norm_solution(X, y, cutoff=10.0), [0.0, 0.0, 0.0])


def test_reference_splits_follow_train_test_split():
    from sklearn.model_selection import train_test_split

    n, N = 50, 7
    train, test = linear.reference_splits(n, N, repeats=3)
    for r in range(3):
        ref_train, ref_test = train_test_split(np.arange(n), random_state=r, test_size=n - N)
        np.testing.assert_array_equal(train[r], ref_train)
        np.testing.assert_array_equal(test[r], ref_test)


def small_settings(**changes):
    values = dict(
        train_sizes=[3, 10, 20],
        repeats=4,
        cutoffs=[1e-3, 1e9],
        subspace_ranks=[1, 25],
        adversarial_scales=[0.0, 1.0],
    )
    values.update(changes)
    return linear.SweepSettings(**values)


def test_sweep_against_direct_computation():
    data = student_teacher()
    table = linear.sweep(data, small_settings())
    train, test = linear.reference_splits(1000, 10, 4)
    r = 2
    beta = np.linalg.pinv(data.X[train[r]]) @ data.y[train[r]]
    expected = np.mean((data.X[test[r]] @ beta - data.y[test[r]]) ** 2)
    row = table.query("N == 10 and repeat == 2 and quantity == 'test_mse'")
    np.testing.assert_allclose(row["value"].item(), expected, rtol=1e-8)
    sigma = np.linalg.svd(data.X[train[r]], compute_uv=False).min()
    row = table.query("N == 10 and repeat == 2 and quantity == 'sigma_min'")
    np.testing.assert_allclose(row["value"].item(), sigma, rtol=1e-10)


def test_ablations_have_their_known_answers():
    data = student_teacher()
    table = linear.sweep(data, small_settings())

    def value(N, quantity, setting=0.0):
        rows = table[
            (table.N == N) & (table.quantity == quantity) & np.isclose(table.setting, setting)
        ]
        return rows.sort_values("repeat")["value"].to_numpy()

    # a huge cut-off gives the zero predictor: test MSE = mean y_test^2
    _, test = linear.reference_splits(1000, 10, 4)
    np.testing.assert_allclose(value(10, "test_mse_cutoff", 1e9), (data.y[test] ** 2).mean(1))
    # keeping k >= min(N, D) directions changes nothing
    np.testing.assert_allclose(value(10, "test_mse_subspace", 25), value(10, "test_mse"))
    # without residuals and N >= D the fit recovers beta* exactly
    assert value(20, "test_mse_no_residual").max() < 1e-20
    assert value(20, "train_mse_no_residual").max() < 1e-20
    # a = 0 adversaries are the un-ablated fit
    np.testing.assert_allclose(value(10, "test_mse_adversarial_test", 0.0), value(10, "test_mse"))
    np.testing.assert_allclose(value(10, "test_mse_adversarial_train", 0.0), value(10, "test_mse"))
    # the adversarial training target moves the fit by exactly (a / sigma_min) v_last
    train, _ = linear.reference_splits(1000, 10, 4)
    U, S, Vt = np.linalg.svd(data.X[train[0]], full_matrices=False)
    beta = np.linalg.pinv(data.X[train[0]]) @ data.y[train[0]] + Vt[-1] / S[-1]
    expected = np.mean((data.X[test[0]] @ beta - data.y[test[0]]) ** 2)
    np.testing.assert_allclose(value(10, "test_mse_adversarial_train", 1.0)[0], expected, rtol=1e-8)
    # training features span R^D once N >= D: the bias term vanishes
    assert value(20, "test_bias_sq").max() < 1e-20


def test_rank_one_subspace_equals_rank_one_truncated_fit():
    data = student_teacher()
    table = linear.sweep(data, small_settings(train_sizes=[10]))
    train, test = linear.reference_splits(1000, 10, 4)
    U, S, Vt = np.linalg.svd(data.X[train[0]], full_matrices=False)
    beta_rank1 = Vt[0] * (U[:, 0] @ data.y[train[0]]) / S[0]
    expected = np.mean((data.X[test[0]] @ beta_rank1 - data.y[test[0]]) ** 2)
    row = table.query("repeat == 0 and quantity == 'test_mse_subspace' and setting == 1")
    np.testing.assert_allclose(row["value"].item(), expected, rtol=1e-8)


def test_bias_is_zero_for_centred_features():
    """Diabetes columns are centred: the mean test datum lies in the training span."""
    table = linear.sweep(load_regression("diabetes"), small_settings(train_sizes=[3, 5]))
    assert table.query("quantity == 'test_bias_sq'")["value"].max() < 1e-20


def test_bad_settings_raise_before_compute():
    data = RegressionData("tiny", np.ones((5, 2)), np.ones(5))
    with pytest.raises(ValueError, match="train_sizes"):
        linear.sweep(data, small_settings(train_sizes=[5]))
    with pytest.raises(ValueError, match="repeats"):
        linear.sweep(data, small_settings(train_sizes=[2], repeats=0))
    with pytest.raises(ValueError, match="cutoffs"):
        linear.sweep(data, small_settings(train_sizes=[2], cutoffs=[-1.0]))


def test_polynomial_interpolates_below_threshold():
    table = linear.polynomial_sweep([5, 20], repeats=2)
    assert table.query("degree == 20")["train_mse"].max() < 1e-10
    assert table.query("degree == 5")["train_mse"].min() > 1e-3


def test_peak_height_of_a_known_curve():
    import pandas as pd

    curve = pd.Series([4.0, 16.0, 100.0, 4.0, 1.0], index=[5, 8, 10, 15, 20])
    assert linear.peak_height(curve, 10) == pytest.approx(100.0 / np.sqrt(4.0 * 1.0))


def test_peak_flanks_clip_to_the_sweep():
    assert linear.peak_flanks(range(1, 40), 10) == (5, 20)
    assert linear.peak_flanks(range(1, 40), 20) == (10, 39)
    assert linear.peak_flanks(range(3, 40), 4) == (3, 8)


def test_repeat_values_pivots_one_curve_by_n_and_repeat():
    table = linear.sweep(student_teacher(), small_settings())
    frame = linear.repeat_values(table, "student-teacher", "test_mse_cutoff", 1e-3)
    assert list(frame.index) == [3, 10, 20] and list(frame.columns) == [0, 1, 2, 3]
    row = table.query("N == 10 and repeat == 2 and quantity == 'test_mse_cutoff' "
                      "and setting == 1e-3")
    assert frame.loc[10, 2] == row["value"].item()


def test_gradient_descent_iterates_have_their_closed_form():
    """Mode i of the iterate from zero is (1 - (1 - lr sigma_i^2)^t) times the min-norm answer."""
    X, y = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]]), np.array([1.0, 2.0])  # beta = [1, 1, 0]
    np.testing.assert_allclose(linear.gradient_descent_solution(X, y, 3, 0.25),
                               [1 - 0.75 ** 3, 1.0, 0.0], rtol=1e-15)
    # a start outside the row space keeps that component for ever: not the minimum-norm answer
    far = linear.gradient_descent_solution(X, y, 500, 0.25, start=np.array([0.0, 0.0, 5.0]))
    np.testing.assert_allclose(far, [1.0, 1.0, 5.0], atol=1e-12)


def test_gradient_descent_budget_reaches_the_pseudo_inverse():
    X, y = random_problem(8, 15, seed=3)
    steps, learning_rate = linear.gradient_descent_budget(X, 1e-12)
    S = np.linalg.svd(X, compute_uv=False)
    assert learning_rate == pytest.approx(1 / S[0] ** 2)
    assert steps == int(np.ceil(np.log(1e-12) / np.log(1 - (S[-1] / S[0]) ** 2)))
    beta = linear.gradient_descent_solution(X, y, steps, learning_rate)
    expected = np.linalg.pinv(X) @ y
    assert np.linalg.norm(beta - expected) / np.linalg.norm(expected) < 1e-10
    # stopping at a tenth of the budget is measurably short of it
    early = linear.gradient_descent_solution(X, y, steps // 10, learning_rate)
    assert np.linalg.norm(early - expected) / np.linalg.norm(expected) > 1e-6


def test_gradient_descent_check_of_the_notebook():
    from ddlib.studies.linear_double_descent import experiment

    check = experiment.gradient_descent_check()
    assert check["N"] < check["D"] and check["relative_distance"] < 1e-10
