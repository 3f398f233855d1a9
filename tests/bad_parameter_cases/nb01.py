"""Bad parameters of notebook 01 (linear double descent): ``(overrides, parameter, allowed)``.

Each case is applied on top of the ``smoke`` profile (datasets diabetes and student-teacher,
optional california-housing and who-life-expectancy) and must be refused while the profile is
resolved, with a message containing ``parameter`` and ``allowed``.
"""

NAN, INF = float("nan"), float("inf")

CASES = [
    # cases listed in the issue
    ({"cutoffs": [NAN]}, "cutoffs[0]", "a finite number in [0, inf)"),  # would drop every sigma
    ({"cutoffs": []}, "cutoffs", "a list of 1 to 100 items"),
    ({"adversarial_scales": []}, "adversarial_scales", "a list of 1 to 100 items"),
    ({"polynomial_degrees": [-1]}, "polynomial_degrees[0]", "an integer in [1, 10000]"),
    ({"polynomial_repeats": 0}, "polynomial_repeats", "an integer in [1, 1e+06]"),
    ({"gaussian_sizes": [0]}, "gaussian_sizes[0]", "an integer in [1, 1e+06]"),  # IndexError
    ({"claim_cutoff": {"diabetes": -1}}, "claim_cutoff['diabetes']", "a finite number in (0, inf)"),
    ({"claim_cutoff": {"diabetes": 0.1}}, "claim_cutoff",  # KeyError in the claims today
     "a cut-off for every dataset used"),
    ({"subspace_ranks_real": [50]}, "subspace_ranks_real", "an integer in [1, 40]"),
    ({"subspace_ranks_real": [35]}, "subspace_ranks_real", "ranks k in 1..34"),  # 2 x WHO's D = 17
    ({"gaussian_repeats": 0}, "gaussian_repeats", "an integer in [1, 1e+06]"),
    ({"repeats": 1e9}, "repeats", "an integer in [1, 1e+06]"),
    ({"repeats": 10**9}, "repeats", "an integer in [1, 1e+06]"),
    ({"max_train_size": 0}, "max_train_size", "an integer in [1, 200]"),
    ({"datasets": ["imagenet"]}, "datasets[0]", "one of 'diabetes', 'student-teacher'"),
    ({"allow_download": "yes"}, "allow_download", "True or False"),
    # types
    ({"repeats": True}, "repeats", "an integer in [1, 1e+06]"),
    ({"repeats": 8.0}, "repeats", "an integer in [1, 1e+06]"),
    ({"repeats": "8"}, "repeats", "an integer in [1, 1e+06]"),
    ({"max_train_size": None}, "max_train_size", "an integer in [1, 200]"),
    ({"polynomial_degrees": [1, 2.5]}, "polynomial_degrees[1]", "an integer in [1, 10000]"),
    ({"subspace_ranks_student_teacher": [False]}, "subspace_ranks_student_teacher[0]",
     "an integer in [1, 40]"),
    ({"allow_download": 1}, "allow_download", "True or False"),
    ({"cutoffs": 0.1}, "cutoffs", "a list of 1 to 100 items"),
    ({"cutoffs": ["0.1"]}, "cutoffs[0]", "a finite number in [0, inf)"),
    ({"claim_cutoff": [0.1, 1.0]}, "claim_cutoff", "a dict of at least 1 entries"),
    ({"datasets": "diabetes"}, "datasets", "a list of at least 1 items"),
    # nan / inf, negative and zero, absurd sizes
    ({"adversarial_scales": [0.0, INF]}, "adversarial_scales[1]", "a finite number in [0, 1e+06]"),
    ({"adversarial_scales": [-1.0]}, "adversarial_scales[0]", "a finite number in [0, 1e+06]"),
    ({"cutoffs": [-0.1]}, "cutoffs[0]", "a finite number in [0, inf)"),
    ({"claim_cutoff": {"diabetes": NAN, "student-teacher": 1.0}}, "claim_cutoff['diabetes']",
     "a finite number in (0, inf)"),
    ({"claim_cutoff": {"diabetes": 0.0, "student-teacher": 1.0}}, "claim_cutoff['diabetes']",
     "a finite number in (0, inf)"),
    ({"max_train_size": 201}, "max_train_size", "an integer in [1, 200]"),
    ({"repeats": -3}, "repeats", "an integer in [1, 1e+06]"),
    ({"gaussian_sizes": [1, 10**7]}, "gaussian_sizes[1]", "an integer in [1, 1e+06]"),
    ({"polynomial_degrees": [10**6]}, "polynomial_degrees[0]", "an integer in [1, 10000]"),
    ({"subspace_ranks_real": [0]}, "subspace_ranks_real[0]", "an integer in [1, 40]"),
    ({"cutoffs": [c / 1000 for c in range(101)]}, "cutoffs", "a list of 1 to 100 items"),
    # empty lists, unknown or repeated members
    ({"datasets": []}, "datasets", "a list of at least 1 items"),
    ({"polynomial_degrees": []}, "polynomial_degrees", "a list of 1 to 1000 items"),
    ({"gaussian_sizes": []}, "gaussian_sizes", "a list of 1 to 1000 items"),
    ({"subspace_ranks_real": []}, "subspace_ranks_real", "a list of 1 to 100 items"),
    ({"optional_datasets": ["who"]}, "optional_datasets[0]", "'who-life-expectancy'"),
    ({"datasets": ["diabetes", "diabetes"]}, "datasets", "all different"),
    ({"polynomial_degrees": [5, 5]}, "polynomial_degrees", "all different"),
    ({"claim_cutoff": {"boston": 0.1}}, "claim_cutoff key", "one of 'diabetes'"),
    # cross-field rules
    ({"max_train_size": 20}, "max_train_size", "an integer in [21, 200]"),  # Student-Teacher: D = 20
    ({"datasets": ["diabetes"], "optional_datasets": [], "max_train_size": 10}, "max_train_size",
     "an integer in [11, 200]"),
    ({"optional_datasets": ["diabetes"]}, "optional_datasets", "datasets not already in datasets"),
    ({"claim_cutoff": {"diabetes": 0.2, "student-teacher": 1.0, "california-housing": 1.0,
                       "who-life-expectancy": 1.0}}, "claim_cutoff", "use values among cutoffs="),
    ({"cutoffs": [0.01, 0.1]}, "claim_cutoff", "use values among cutoffs="),  # 1.0 no longer swept
    ({"subspace_ranks_student_teacher": [5, 41]}, "subspace_ranks_student_teacher[1]",
     "an integer in [1, 40]"),
    ({"datasets": ["diabetes"], "optional_datasets": [], "subspace_ranks_real": [21]},
     "subspace_ranks_real", "ranks k in 1..20"),
    # absurd sizes refused by the cost checks, with the estimate and the limit
    ({"repeats": 1_000_000}, "repeats=1000000", "GiB of memory; this machine has"),
    ({"gaussian_repeats": 1_000_000, "gaussian_sizes": [1_000_000]}, "gaussian_repeats=1000000",
     "GiB of memory; this machine has"),
    ({"polynomial_repeats": 1_000_000, "polynomial_degrees": list(range(9001, 10001))},
     "polynomial_repeats=1000000", "GiB of memory; this machine has"),
    # misspelled parameter names
    ({"repeat": 3}, "repeat", "did you mean 'repeats'?"),
    ({"cutoff": [0.1]}, "cutoff", "did you mean 'cutoffs'?"),
]
