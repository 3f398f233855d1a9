"""ddlib: the computations behind the double-descent companion notebooks.

Importing ddlib raises glibc's heap thresholds for the process (:mod:`ddlib.core.allocator`):
without that, PyTorch's CPU tensors page-fault on every batch (measured 1.7-2x slower inference).
"""

from ddlib.core.allocator import retain_freed_memory

__version__ = "0.1.0"

retain_freed_memory()
