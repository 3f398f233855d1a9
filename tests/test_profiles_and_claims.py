"""Profiles resolve with overrides and fail clearly; the claims table round-trips."""

import pandas as pd
import pytest

from ddlib.core.claims import ClaimsTable
from ddlib.studies import (
    NOTEBOOKS,
    PROFILE_NAMES,
    parameter_names,
    profile_module,
    resolve,
    validate_names,
)


def test_resolve_profile_and_overrides():
    params = resolve("01", "smoke", namespace={"repeats": 3, "In": [], "unrelated": 1})
    assert params.repeats == 3 and params["max_train_size"] == 39
    with pytest.raises(ValueError, match="unknown parameter 'unrelated'"):
        resolve("01", "smoke", namespace={"repeats": 3, "unrelated": 1})  # no kernel history
    assert resolve("01", "laptop", repeats=7).repeats == 7
    assert "meaning [unit]" in params.table().columns


def test_unknown_profile_and_parameter_are_errors_listing_allowed_values():
    with pytest.raises(ValueError, match="allowed profiles"):
        resolve("01", "huge")
    with pytest.raises(ValueError, match="unknown parameter"):
        resolve("01", "smoke", width_max=3)
    with pytest.raises(ValueError, match="an integer in"):
        resolve("01", "smoke", repeats="many")
    with pytest.raises(ValueError, match="known notebooks"):
        validate_names("99", [])


def test_value_validation_names_the_parameter():
    with pytest.raises(ValueError, match="max_train_size"):
        resolve("01", "smoke", max_train_size=0)
    with pytest.raises(ValueError, match="datasets"):
        resolve("01", "smoke", datasets=["imagenet"])


@pytest.mark.parametrize("notebook", ["01", "02", "03", "04"])
def test_every_profile_of_a_notebook_has_the_same_documented_keys(notebook):
    module = profile_module(notebook)  # a missing params module fails here, it never skips
    assert module.__name__ == f"ddlib.studies.{NOTEBOOKS[notebook]}.params"
    keys = parameter_names(notebook)
    assert keys == list(module.PARAMETERS)  # one declaration per parameter
    assert all(parameter.meaning for parameter in module.PARAMETERS.values())
    laptop = module.PROFILES["laptop"]
    assert laptop == {name: parameter.value for name, parameter in module.PARAMETERS.items()}
    for profile in PROFILE_NAMES:
        assert list(module.PROFILES[profile]) == keys
        # smoke and paper are laptop plus their deltas: some keys differ, none is missing
        assert profile == "laptop" or module.PROFILES[profile] != laptop


def test_a_profile_delta_names_only_parameters_that_differ():
    from ddlib.core.checks import Integer
    from ddlib.core.params import Param, profiles

    declared = {"width": Param(4, Integer(1), "units [neurons]")}
    assert profiles(declared, smoke={"width": 2}, paper={"width": 64})["paper"] == {"width": 64}
    with pytest.raises(KeyError, match="widht"):
        profiles(declared, smoke={"widht": 2}, paper={})
    with pytest.raises(KeyError, match="repeat laptop's value"):
        profiles(declared, smoke={"width": 4}, paper={})


def test_a_row_names_the_public_claims_function_that_added_it():
    from ddlib.studies.linear_double_descent import claims as nb01

    table = ClaimsTable("01")
    nb01.add_polynomial_claim(table, pd.DataFrame({"degree": [14, 15, 16, 30] * 2,
                                                   "repeat": [0] * 4 + [1] * 4,
                                                   "test_mse": [2.0, 9.0, 2.0, 0.5] * 2}))
    assert [row["rule"] for row in table.rows] == ["add_polynomial_claim"]


def test_claims_table_saves_csv_and_markdown(tmp_path):
    table = ClaimsTable("99_test")
    assert table.add("x peaks", "at 3", "argmax == 3", 3 == 3, role="headline", dataset="toy",
                     seeds=1) is True
    table.add("y falls", "1 -> 2", "decreases", 2 < 1, role="headline", dataset="toy", seeds=3,
              confidence="mean ± std over 3 seeds: 1 ± 0.1")
    table.save(tmp_path / "99_test")
    frame = pd.read_csv(tmp_path / "99_test" / "claims.csv")
    assert list(frame.columns) == ["notebook", "claim", "role", "dataset", "seeds", "measured",
                                   "confidence", "criterion", "holds", "rule"]
    assert frame["holds"].tolist() == [True, False]
    assert frame["rule"].isna().all()  # added here, not by a study's claims module
    assert "| y falls | headline | toy | 3 | 1 -> 2 |" in (tmp_path / "99_test" / "claims.md").read_text()
