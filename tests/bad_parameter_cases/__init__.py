"""Tables of bad parameters per notebook, read by tests/test_bad_parameters.py.

Each module ``nbNN.py`` holds ``CASES``: a list of ``(overrides, parameter, allowed)`` where
``overrides`` is a dict applied on top of the ``smoke`` profile, ``parameter`` must appear in the
error message (the parameter it names) and ``allowed`` is a fragment of the message saying what is
allowed (for example ``"integer in [1"``).
"""
