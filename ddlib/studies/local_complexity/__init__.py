"""Study of notebook 03 (local_complexity): params, experiment, claims, figures."""
