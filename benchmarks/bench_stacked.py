"""Stacked training vs one model after another: models/s per ConvNet width (issue 11).

For each width, ``MEMBERS`` ConvNets (the seeds of one width) take ``STEPS`` SGD steps on
CIFAR-shaped batches of 128, once stacked (``ddlib.training.stacked.StackedModels``: one vmapped
forward/backward, one optimiser) and once one model after another (the reference: each model's own
forward/backward/step). Both start from the same weights and see the same batches; the weights
must agree (see :func:`compare`), then the ratio of model-steps per second is printed.
A last row does the same for notebook 03's MLP (784-200-200-200-10, batches of 200), whose
training-size sweep stacks (``ddlib.training.lc_stacked``).

The ``"auto"`` stacking policy of ``train_sweep`` stacks on CUDA only: on the CPU the vmapped
convolutions (grouped convolutions under the hood) are slower than one model's channels-last
convolution, which this benchmark shows (ratio < 1 on the 2-core CPU). On a GPU, small models are
bound by kernel launches and the ratio is expected above 1.

Run: ``python benchmarks/bench_stacked.py [--device cuda] [--widths 1,2,4,8,16]``.
"""

from __future__ import annotations

import argparse
import functools
import time
from collections.abc import Callable

import torch
from torch import nn

from ddlib.models.convnet import ConvNet
from ddlib.models.mlp import MLP
from ddlib.training.stacked import StackedModels

MEMBERS, STEPS, BATCH, LR = 3, 6, 128, 0.05
MLP_BATCH, MLP_STEPS = 200, 60  # notebook 03's minibatch (Humayun et al.); more steps: 5 ms each


def seeded_models(build: Callable[[], nn.Module], device: torch.device) -> list[nn.Module]:
    models = []
    for seed in range(MEMBERS):
        torch.manual_seed(seed)
        models.append(build().to(device))
    return models


def one_after_another(models: list[nn.Module], images: torch.Tensor, labels: torch.Tensor) -> None:
    """The reference: each model trains on its batches by itself."""
    for m, model in enumerate(models):
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=LR)
        for step in range(len(images)):
            loss = nn.functional.cross_entropy(model(images[step, m]), labels[step, m])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()


def stacked_steps(models: list[nn.Module], images: torch.Tensor,
                  labels: torch.Tensor) -> StackedModels:
    """Every model in one vmapped step per batch."""
    ensemble = StackedModels(models)
    optimizer = torch.optim.SGD(list(ensemble.params.values()), lr=LR)
    for step in range(len(images)):
        logits = ensemble(images[step])
        loss = sum(nn.functional.cross_entropy(logits[m], labels[step, m])
                   for m in range(len(models)))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return ensemble


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def assert_same_weights(alone: list[nn.Module], ensemble: StackedModels, tolerance: float) -> None:
    for m, model in enumerate(alone):
        for name, weight in model.named_parameters():
            difference = (ensemble.params[name][m] - weight).abs().max().item()
            assert difference < tolerance, f"member {m}, {name}: differs by {difference}"


def compare(build: Callable[[], nn.Module], sample_shape: tuple[int, ...], batch: int,
            steps: int, device: torch.device) -> tuple[float, float]:
    """Model-steps per second, one after another and stacked, of ``MEMBERS`` models.

    The untimed first step (a warm-up) must give the same weights both ways to 1e-6; after all
    ``steps`` the weights must agree to 1e-3 only: a ReLU pre-activation within float32 rounding
    of zero can take the other sign in one of the two, and later steps amplify that.
    """
    generator = torch.Generator().manual_seed(0)
    images = torch.rand(steps, MEMBERS, batch, *sample_shape, generator=generator).to(device)
    labels = torch.randint(0, 10, (steps, MEMBERS, batch), generator=generator).to(device)
    warm_alone = seeded_models(build, device)
    one_after_another(warm_alone, images[:1], labels[:1])
    assert_same_weights(warm_alone, stacked_steps(seeded_models(build, device), images[:1],
                                                  labels[:1]), 1e-6)
    alone, together = seeded_models(build, device), seeded_models(build, device)
    synchronize(device)
    start = time.perf_counter()
    one_after_another(alone, images, labels)
    synchronize(device)
    alone_s = time.perf_counter() - start
    start = time.perf_counter()
    ensemble = stacked_steps(together, images, labels)
    synchronize(device)
    stacked_s = time.perf_counter() - start
    assert_same_weights(alone, ensemble, 1e-3)
    return MEMBERS * steps / alone_s, MEMBERS * steps / stacked_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--widths", default="1,2,4,8,12,16")
    args = parser.parse_args()
    device = torch.device(args.device)
    print(f"{MEMBERS} ConvNets per width, {STEPS} SGD steps of {BATCH} CIFAR-shaped images, "
          f"device {device}, {torch.get_num_threads()} thread(s)")
    print(f"{'width':>5} {'alone model-steps/s':>20} {'stacked model-steps/s':>22} {'ratio':>6}")
    for width in (int(w) for w in args.widths.split(",")):
        alone, stacked = compare(functools.partial(ConvNet, width=width), (3, 32, 32), BATCH, STEPS, device)
        print(f"{width:>5} {alone:>20.1f} {stacked:>22.1f} {stacked / alone:>6.2f}")
    mlp = {"in_features": 784, "num_classes": 10, "depth": 3, "width": 200}
    alone, stacked = compare(functools.partial(MLP, **mlp), (784,), MLP_BATCH, MLP_STEPS, device)
    print(f"notebook 03's MLP (784-200-200-200-10), {MLP_BATCH} images a step: "
          f"{alone:.1f} vs {stacked:.1f} model-steps/s, ratio {stacked / alone:.2f}")
    print("ratio = stacked / one after another (> 1: stacking is faster); train_sweep's "
          "stack='auto' stacks on CUDA only")


if __name__ == "__main__":
    main()
