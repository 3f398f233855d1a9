"""Local complexity (LC) of a deep network's input-space partition (Humayun et al. 2024, Sec. 3).

For a point x, take P orthonormal directions v_1..v_P (one random frame shared by all points)
and the 2P vertices x +- r v_p of the cross-polytope of radius r around x. A neuron's
hyperplane {z = 0} crosses the neighbourhood when its pre-activation z does not have the same
sign at all vertices; LC(x) is the number of such neurons, per layer and summed over layers
(the paper's Eq. 3 approximated by the cross-polytope, as in its Fig. 2).

Speed: when the model's first operation is a ``nn.Linear`` or ``nn.Conv2d`` applied to the input
itself (an MLP, a plain conv net), its output at the vertices is computed by linearity,
A(x +- r v) = A x +- r A v, so that the 2P vertices never pass through the first layer; this
changes pre-activations only by rounding (``first_layer_by_linearity=False`` switches it off).

Rules (stated because the reference code differs): the sign is binary (z > 0), so a
pre-activation of exactly 0 counts as negative; hidden layers are counted (the output layer
only with ``include_output=True``); the frame comes from a dedicated ``torch.Generator`` seeded by
``seed``, never from the global random state. A hooked layer is any activation module
(ReLU, leaky ReLU, GELU, ...) and its input is the pre-activation; for a conv net every
channel x pixel of that input is a neuron.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional

ACTIVATION_TYPES = (nn.ReLU, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.ELU, nn.Tanh)
DEFAULT_VERTICES_PER_BATCH = 8192


@dataclass
class LocalComplexity:
    """Per-point, per-layer neuron counts: ``per_layer[i, l]`` for point i and hooked layer l."""

    per_layer: torch.Tensor  # int64 [num_points, num_layers]
    layer_names: list[str]

    @property
    def total(self) -> torch.Tensor:
        """LC of each point summed over layers, int64 [num_points]."""
        return self.per_layer.sum(dim=1)

    def mean(self) -> float:
        """LC averaged over points (the paper's reported number)."""
        return float(self.total.double().mean())

    def layer_means(self) -> dict[str, float]:
        """Mean LC per layer (the layer-wise curves)."""
        means = self.per_layer.double().mean(dim=0)
        return {name: float(value) for name, value in zip(self.layer_names, means)}


def orthonormal_frame(
    dim: int, num_directions: int, seed: int, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """P random orthonormal directions in R^dim, rows of a [P, dim] tensor (QR of a Gaussian).

    Drawn from a dedicated generator seeded by ``seed`` in float64, so that the frame is the
    same on every device and dtype and the global random state is left untouched.
    """
    if not isinstance(num_directions, int) or not 1 <= num_directions <= dim:
        raise ValueError(f"num_directions must be an integer in [1, {dim}], got {num_directions!r}")
    generator = torch.Generator().manual_seed(seed)
    gaussian = torch.randn(dim, num_directions, generator=generator, dtype=torch.float64)
    q, r = torch.linalg.qr(gaussian)
    q = q * torch.sign(torch.diagonal(r))  # unique frame: positive diagonal of R
    return q.T.contiguous().to(dtype)


def activation_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every activation module of ``model``, in registration order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, ACTIVATION_TYPES)]


def modules_named(model: nn.Module, suffixes: Sequence[str]) -> list[nn.Module]:
    """Modules whose qualified name ends with one of ``suffixes``, in registration order.

    ``modules_named(resnet, ("norm1", "norm2", "final_norm"))`` with ``layer_outputs=True`` hooks
    the pre-activations of ``ddlib.models.resnet.PreActResNet18``, whose ReLUs are functional.
    """
    return [m for name, m in model.named_modules() if name.endswith(tuple(suffixes))]


def cross_polytope(x: torch.Tensor, directions: torch.Tensor, radius: float) -> torch.Tensor:
    """Vertices x +- r v_p of every point: [N, 2P, *x.shape[1:]] (+ vertices first)."""
    steps = radius * directions.reshape(directions.shape[0], *x.shape[1:])
    return torch.cat([x[:, None] + steps[None], x[:, None] - steps[None]], dim=1)


def _first_affine_module(model: nn.Module, example: torch.Tensor) -> nn.Module | None:
    """The Linear/Conv2d that the model applies first, directly to its input; else None."""
    calls: list[tuple[nn.Module, bool]] = []

    def record(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        takes_input = inputs[0].data_ptr() == example.data_ptr()
        calls.append((module, takes_input and inputs[0].numel() == example.numel()))

    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [m.register_forward_pre_hook(record) for m in leaves]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for handle in handles:
            handle.remove()
    if not calls:
        return None
    module, takes_input = calls[0]
    return module if takes_input and isinstance(module, nn.Linear | nn.Conv2d) else None


def _linear_part(module: nn.Module, steps: torch.Tensor) -> torch.Tensor:
    """A v without the bias, for the module returned by ``_first_affine_module``."""
    if isinstance(module, nn.Linear):
        return functional.linear(steps.flatten(1), module.weight)
    return module._conv_forward(steps, module.weight, None)


def _count_sign_changes(preactivation: torch.Tensor, num_points: int) -> torch.Tensor:
    """Neurons whose sign (z > 0) is not constant over each point's vertices: [num_points].

    A neuron changes sign iff its largest pre-activation over the vertices is > 0 and its
    smallest is <= 0: two float reductions, about 6x faster on the CPU than reducing the
    boolean signs with ``any`` / ``all`` (``benchmarks/bench_complexity.py``).
    """
    per_vertex = preactivation.reshape(num_points, -1, preactivation[0].numel())
    changes = (per_vertex.amax(dim=1) > 0) & (per_vertex.amin(dim=1) <= 0)
    return changes.sum(dim=1)


def local_complexity(
    model: nn.Module,
    x: torch.Tensor,
    radius: float,
    num_directions: int = 25,
    seed: int = 0,
    layers: Sequence[nn.Module] | None = None,
    include_output: bool = False,
    directions: torch.Tensor | None = None,
    layer_outputs: bool = False,
    vertices_per_batch: int = DEFAULT_VERTICES_PER_BATCH,
    first_layer_by_linearity: bool = True,
) -> LocalComplexity:
    """LC of ``model`` at every point of ``x`` (Humayun et al., Eq. 3 via the cross-polytope).

    ``layers``: modules whose *input* is a pre-activation (default: every activation module), or
    with ``layer_outputs=True`` modules whose *output* is one (the norm layers of a network that
    applies ``F.relu``, see :func:`modules_named`);
    ``include_output`` adds the model's output as a last layer (the reference code's choice);
    ``directions``: a [P, d] orthonormal frame overriding ``num_directions``/``seed``. Points are
    processed in batches of about ``vertices_per_batch`` vertices, one forward pass per batch.
    The model runs in eval mode (batch norm uses running statistics) and its mode is restored.
    """
    if not radius > 0:
        raise ValueError(f"radius must be > 0, got {radius!r}")
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a non-empty batch [N, ...], got shape {tuple(x.shape)}")
    if vertices_per_batch < 1:
        raise ValueError(f"vertices_per_batch must be >= 1, got {vertices_per_batch!r}")
    dim = x[0].numel()
    if directions is None:
        directions = orthonormal_frame(dim, num_directions, seed, dtype=x.dtype)
    elif directions.ndim != 2 or directions.shape[1] != dim:
        raise ValueError(f"directions must have shape [P, {dim}], got {tuple(directions.shape)}")
    if layers is None:
        named = activation_modules(model)
    else:
        names = {id(m): n for n, m in model.named_modules()}
        named = [(names.get(id(m), type(m).__name__), m) for m in layers]
    if not named and not include_output:
        raise ValueError("layers: the model has no activation modules; pass layers= explicitly")

    parameter = next(model.parameters())
    directions = directions.to(device=parameter.device, dtype=parameter.dtype)
    points_per_batch = max(1, vertices_per_batch // (2 * directions.shape[0]))
    counts: list[torch.Tensor] = []  # filled by the hooks during one forward pass
    current_points = 0

    def record(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        counts.append(_count_sign_changes(inputs[0], current_points))

    def record_output(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> None:
        counts.append(_count_sign_changes(output, current_points))

    def expand(_module: nn.Module, _inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        return cross_polytope(output, first_steps, 1.0).flatten(0, 1)

    was_training = model.training
    model.eval()
    first = None
    if first_layer_by_linearity:
        example = x[:1].to(device=parameter.device, dtype=parameter.dtype)
        first = _first_affine_module(model, example)
    if layer_outputs:
        handles = [module.register_forward_hook(record_output) for _, module in named]
    else:
        handles = [module.register_forward_pre_hook(record) for _, module in named]
    if first is not None:
        with torch.no_grad():
            first_steps = _linear_part(first, radius * directions.reshape(-1, *x.shape[1:]))
        handles.append(first.register_forward_hook(expand))
    batches = []
    try:
        with torch.no_grad():
            for chunk in x.split(points_per_batch):
                chunk = chunk.to(device=parameter.device, dtype=parameter.dtype)
                current_points = chunk.shape[0]
                counts.clear()
                if first is None:
                    chunk = cross_polytope(chunk, directions, radius).flatten(0, 1)
                output = model(chunk)
                if include_output:
                    counts.append(_count_sign_changes(output, current_points))
                batches.append(torch.stack(counts, dim=1).cpu())
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    per_layer = torch.cat(batches)
    layer_names = [name for name, _ in named]
    if per_layer.shape[1] != len(layer_names) + int(include_output):
        layer_names = [f"call{i}" for i in range(per_layer.shape[1] - int(include_output))]
    if include_output:
        layer_names.append("output")
    return LocalComplexity(per_layer=per_layer, layer_names=layer_names)
