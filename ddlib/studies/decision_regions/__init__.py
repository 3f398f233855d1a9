"""Study of notebook 04 (decision_regions): params, experiment, claims, figures."""
