"""What a ``build_model`` spec costs: parameters, and FLOP and activations per example.

The one cost model of ddlib (studies price their parameters with it, ``benchmarks/`` report
it): the model is built on the meta device (no memory, no arithmetic) and one forward and
backward pass of a batch of 2 is counted by :class:`FlopCount`, with the formulas of
``torch.utils.flop_counter``: matmuls, convolutions and attention (norms, activations and
pooling are left out: a few per cent). Training counts the gradients of the parameters only,
not of the input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from ddlib.models import build_model

_BATCH = 2  # examples counted (a batch norm in training mode needs 2 values per channel)
# shape-keeping modules whose work no FLOP formula counts
_UNCOUNTED = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm, nn.ReLU, nn.LeakyReLU,
              nn.GELU, nn.Dropout)


class FlopCount(TorchDispatchMode):
    """Adds ``torch.utils.flop_counter``'s formula of every dispatched operator that has one
    (``with FlopCount() as count: ...``, then ``count.flop``).

    ``FlopCounterMode`` adds the same formulas but also tracks modules with backward hooks,
    which makes it slower on the meta device and which ``torch.autograd.grad`` with respect to
    an input (the sharpness kernels of ``benchmarks/``) refuses.
    """

    def __init__(self) -> None:
        super().__init__()
        self.flop = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        formula = flop_registry.get(func._overloadpacket)
        if formula is not None:
            self.flop += formula(*args, **kwargs, out_val=out)
        return out


@dataclass(frozen=True)
class ModelCost:
    """Parameters and per-example costs of one model on inputs of one shape."""

    parameters: int  # weights, biases and norm parameters
    forward_flop: int  # one forward (inference) pass of one example
    training_flop: int  # forward plus backward (gradients of the parameters) of one example
    activations: int  # values output by the leaf modules (layers, norms, activation modules)
    largest_activation: int  # values of the largest of those outputs


_CACHE: dict[tuple[str, tuple[int, ...]], ModelCost] = {}


def model_cost(spec: Mapping[str, Any], input_shape: Sequence[int]) -> ModelCost:
    """The :class:`ModelCost` of ``build_model(spec)`` on examples of ``input_shape`` (without
    the batch dimension, e.g. ``(3, 32, 32)``, or ``(784,)`` for an MLP); counted once per spec
    and shape in a process."""
    key = (json.dumps(spec, sort_keys=True, default=repr), tuple(input_shape))
    if key not in _CACHE:
        _CACHE[key] = _count(spec, tuple(input_shape))
    return _CACHE[key]


def _count(spec: Mapping[str, Any], input_shape: tuple[int, ...]) -> ModelCost:
    with torch.device("meta"):
        model = build_model(spec)
    parameters = sum(p.numel() for p in model.parameters())
    # Norms and activations keep the shape and no formula counts their work, but on the meta
    # device they are the slowest operators (Python decompositions): count without them.
    identity = nn.Identity()
    for module in list(model.modules()):
        for name, child in module.named_children():
            if isinstance(child, _UNCOUNTED):
                setattr(module, name, identity)
    outputs: list[int] = []

    def record(_module: nn.Module, _inputs: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            outputs.append(output.numel() // _BATCH)

    for module in model.modules():
        if not any(module.children()):
            module.register_forward_hook(record)
    dtype = next(model.parameters()).dtype
    example = torch.empty(_BATCH, *input_shape, device="meta", dtype=dtype)
    with FlopCount() as counter:
        logits = model(example)
        forward = counter.flop
        logits.sum().backward()
    return ModelCost(parameters, forward // _BATCH, counter.flop // _BATCH, sum(outputs),
                     max(outputs))


def width_costs(spec: Mapping[str, Any], widths: Sequence[int],
                input_shape: Sequence[int]) -> dict[int, ModelCost]:
    """``{w: model_cost({**spec, "width": w}, input_shape)}`` for a sweep of integer widths.

    Every layer of a width model has sizes linear in w, so its parameters, FLOP and activations
    are quadratic in w: they are counted at w = 1, 2, 3 and the quadratic through them is used
    when it also gives the count at the widest w (else every width is counted)."""
    widths = sorted(set(widths))
    if len(widths) <= 4:
        return {w: model_cost({**spec, "width": w}, input_shape) for w in widths}
    known = [model_cost({**spec, "width": w}, input_shape) for w in (1, 2, 3)]

    def fitted(w: int) -> ModelCost:
        values = []
        for field in fields(ModelCost):
            c1, c2, c3 = (getattr(cost, field.name) for cost in known)
            values.append(c1 + (w - 1) * (c2 - c1) + (w - 1) * (w - 2) // 2 * (c3 - 2 * c2 + c1))
        return ModelCost(*values)

    widest = widths[-1]
    if fitted(widest) != model_cost({**spec, "width": widest}, input_shape):
        return {w: model_cost({**spec, "width": w}, input_shape) for w in widths}
    return {w: fitted(w) for w in widths}
