"""ddlib: the computations behind the double-descent companion notebooks."""

__version__ = "0.1.0"
