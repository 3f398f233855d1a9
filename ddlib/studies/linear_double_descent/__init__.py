"""Study of notebook 01 (linear_double_descent): params, experiment, claims, figures."""
