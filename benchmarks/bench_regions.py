"""Batched plane prediction vs a per-plane loop (Somepalli et al. decision regions, docs/papers.md §4).

100 planes at 50 x 50 through 6 laptop-sized models (random initialisation, MNIST test triplets
padded to 32 x 32). Reference: for each plane and each model, build that plane's 2,500 points and
predict them in batches of 128 (the reference code's loader batch). Batched: ``predict_planes``,
which builds the points of all planes block by block across plane boundaries, once for all models,
and sends each block through every model in batches of 128. Prints both times, their ratio, and asserts the predictions agree.

    .venv/bin/python benchmarks/bench_regions.py [--planes 100] [--resolution 50] [--chunk 128] [--block 8192]
"""

from __future__ import annotations

import argparse
import time

import torch

from ddlib.core.data import load_classification
from ddlib.metrics.decision_planes import (
    PlaneBatch,
    planes_through_triplets,
    predict_planes,
    sample_triplets,
)
from ddlib.models import build_model
from ddlib.models.zoo import zoo_specs

MODELS = ("MLP", "ConvNet", "ResNet18", "VGG", "ViT", "MLPMixer")


@torch.no_grad()
def per_plane_loop(
    models: list[torch.nn.Module], planes: PlaneBatch, batch: int = 128
) -> torch.Tensor:
    """The straightforward reference: one plane, one model, 128 points at a time."""
    r = planes.resolution
    out = torch.empty(len(models), len(planes), r, r, dtype=torch.int64)
    for p in range(len(planes)):
        vv, uu = torch.meshgrid(planes.v[p], planes.u[p], indexing="ij")
        points = (
            planes.origin[p]
            + uu.reshape(-1, 1, 1, 1) * planes.a[p]
            + vv.reshape(-1, 1, 1, 1) * planes.b_perp[p]
        )
        for m, model in enumerate(models):
            labels = [model(points[i : i + batch]).argmax(1) for i in range(0, len(points), batch)]
            out[m, p] = torch.cat(labels).view(r, r)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planes", type=int, default=100)
    parser.add_argument("--resolution", type=int, default=50)
    parser.add_argument("--chunk", type=int, default=128, help="points per model batch")
    parser.add_argument(
        "--block", type=int, default=8192, help="points built at once for all models"
    )
    parser.add_argument("--models", default=",".join(MODELS), help=f"labels from {MODELS}")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    data = load_classification("mnist5k", train_size=1000, pad_to=32)
    triplets = sample_triplets(data.y_test, args.planes, seed=0)
    planes = planes_through_triplets(data.x_test, triplets, resolution=args.resolution)
    specs = zoo_specs("small", in_channels=1, image_size=32)
    torch.manual_seed(0)
    models = [build_model(specs[label]).eval() for label in args.models.split(",")]
    print(
        f"{len(planes)} planes x {args.resolution}^2 points x {len(models)} models "
        f"({args.models}), {args.threads} thread(s)"
    )

    start = time.perf_counter()
    reference = per_plane_loop(models, planes)
    loop_seconds = time.perf_counter() - start
    start = time.perf_counter()
    batched = predict_planes(
        models, planes, chunk_size=args.chunk, block_size=args.block, device="cpu"
    )
    batched_seconds = time.perf_counter() - start

    agreement = (reference == batched).double().mean().item()
    print(f"per-plane loop : {loop_seconds:8.2f} s")
    print(f"batched        : {batched_seconds:8.2f} s  (chunk {args.chunk}, block {args.block})")
    print(f"ratio loop / batched: {loop_seconds / batched_seconds:.2f}x; agreement {agreement:.6f}")
    # argmax can flip where two logits tie to float precision and batch sizes differ
    assert agreement > 0.9999, f"batched predictions disagree with the loop: {agreement}"


if __name__ == "__main__":
    main()
