"""Fully connected ReLU / leaky-ReLU / GELU network of Humayun et al. (docs/papers.md §3).

``MLP(784, 10, depth=3, width=200)`` is the 784-200-200-200-10 network of the paper: ``depth``
counts hidden layers. Every hidden layer has its own activation module, so that
``ddlib.metrics.local_complexity`` can hook each layer's pre-activation (the input of that module). Grokking
(Omnigrok, Humayun et al. section 4) multiplies the initial weights and biases by ``init_scale``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ddlib.core.checks import Choice, Integer, ListOf, Real, check_positive_int, check_positive_ints
from ddlib.models.layers import DTYPES

ACTIVATIONS = ("relu", "leaky_relu", "gelu")
LEAKY_RELU_SLOPE = 0.01


def make_activation(name: str) -> nn.Module:
    """Activation module by name (one of ``ACTIVATIONS``)."""
    if name == "relu":
        return nn.ReLU()
    if name == "leaky_relu":
        return nn.LeakyReLU(LEAKY_RELU_SLOPE)
    if name == "gelu":
        return nn.GELU()
    Choice(ACTIVATIONS).fail("activation", name)


class MLP(nn.Module):
    """in_features -> width x depth -> num_classes; flattens its input (N x C x H x W is fine).

    ``width`` is one size for every hidden layer, or a list of ``depth`` sizes (Somepalli et al.'s
    fully connected net 3072-1024-512-256-64-10 is ``depth=4, width=[1024, 512, 256, 64]``).

    ``dtype`` is a torch dtype or its name ("float32", "float64": JSON-friendly run configs).
    Layers are PyTorch's default-initialised ``nn.Linear`` whose weights and biases are then
    multiplied by ``init_scale`` (Liu et al.'s Omnigrok recipe; Humayun et al. use 8 for grokking).
    """

    def __init__(
        self,
        in_features: int,
        num_classes: int,
        depth: int,
        width: int | Sequence[int],
        activation: str = "relu",
        init_scale: float = 1.0,
        dtype: torch.dtype | str = torch.float32,
    ) -> None:
        super().__init__()
        check_positive_ints(in_features=in_features, num_classes=num_classes, depth=depth)
        widths = [check_positive_int("width", width)] * depth if isinstance(width, int) else width
        ListOf(Integer(1), min_length=depth, max_length=depth,
               say=f"a positive integer or a list of {depth} of them").check("width", widths)
        Choice(ACTIVATIONS).check("activation", activation)
        Real(0.0, low_open=True, as_float=False).check("init_scale", init_scale)
        dtype = DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype
        if dtype not in DTYPES.values():
            raise ValueError(
                f"dtype must be one of {list(DTYPES)} (or torch dtypes), got {dtype!r}"
            )
        self.activation_name = activation
        sizes = [in_features, *widths]
        self.hidden = nn.ModuleList(
            nn.Linear(n_in, n_out, dtype=dtype) for n_in, n_out in zip(sizes[:-1], sizes[1:])
        )
        self.activations = nn.ModuleList(make_activation(activation) for _ in range(depth))
        self.output = nn.Linear(widths[-1], num_classes, dtype=dtype)
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.mul_(init_scale)

    def linear_layers(self) -> list[nn.Linear]:
        """Hidden layers then the output layer (the affine maps of the partition)."""
        return [*self.hidden, self.output]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for linear, activation in zip(self.hidden, self.activations):
            x = activation(linear(x))
        return self.output(x)
