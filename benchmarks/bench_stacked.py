"""Stacked training vs one model after another: models/s per ConvNet width (issue 11).

For each width, ``MEMBERS`` ConvNets (the seeds of one width) take ``STEPS`` SGD steps on
CIFAR-shaped batches of 128, once stacked (``ddlib.training.stacked.StackedModels``: one vmapped
forward/backward, one optimiser) and once one model after another (the reference: each model's own
forward/backward/step). Both start from the same weights and see the same batches; the final
weights must agree (to float32 rounding), then the ratio of model-steps per second is printed.

The ``"auto"`` stacking policy of ``train_sweep`` stacks on CUDA only: on the CPU the vmapped
convolutions (grouped convolutions under the hood) are slower than one model's channels-last
convolution, which this benchmark shows (ratio < 1 on the 2-core CPU). On a GPU, small models are
bound by kernel launches and the ratio is expected above 1.

Run: ``python benchmarks/bench_stacked.py [--device cuda] [--widths 1,2,4,8,16]``.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from ddlib.models.convnet import ConvNet
from ddlib.training.stacked import StackedModels

MEMBERS, STEPS, BATCH, LR = 3, 6, 128, 0.05


def seeded_convnets(width: int, device: torch.device) -> list[nn.Module]:
    models = []
    for seed in range(MEMBERS):
        torch.manual_seed(seed)
        models.append(ConvNet(width=width).to(device))
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


def compare(width: int, device: torch.device) -> tuple[float, float]:
    generator = torch.Generator().manual_seed(width)
    images = torch.rand(STEPS, MEMBERS, BATCH, 3, 32, 32, generator=generator).to(device)
    labels = torch.randint(0, 10, (STEPS, MEMBERS, BATCH), generator=generator).to(device)
    alone = seeded_convnets(width, device)
    together = seeded_convnets(width, device)
    one_after_another(seeded_convnets(width, device), images[:1], labels[:1])  # warm-up
    synchronize(device)
    start = time.perf_counter()
    one_after_another(alone, images, labels)
    synchronize(device)
    alone_s = time.perf_counter() - start
    stacked_steps(seeded_convnets(width, device), images[:1], labels[:1])  # warm-up
    synchronize(device)
    start = time.perf_counter()
    ensemble = stacked_steps(together, images, labels)
    synchronize(device)
    stacked_s = time.perf_counter() - start
    for m, model in enumerate(alone):
        for name, weight in model.named_parameters():
            difference = (ensemble.params[name][m] - weight).abs().max().item()
            assert difference < 1e-4, f"width {width}, member {m}, {name}: differs by {difference}"
    return MEMBERS * STEPS / alone_s, MEMBERS * STEPS / stacked_s


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
        alone, stacked = compare(width, device)
        print(f"{width:>5} {alone:>20.1f} {stacked:>22.1f} {stacked / alone:>6.2f}")
    print("ratio = stacked / one after another (> 1: stacking is faster); train_sweep's "
          "stack='auto' stacks on CUDA only")


if __name__ == "__main__":
    main()
