"""Projected GPU hours of each notebook's training under a profile, from steps timed here (issue 11).

Every training config a notebook trains (its study's ``training_configs``, the same configs the
notebook builds) is grouped as ``train_sweep`` groups it (``ddlib.training.stacked.shape_groups``).
For each group one training step is timed on the device with random data of the config's shape
(after warm-up steps; as the training loops step: augmentation, a distillation teacher's logits,
and the product's arithmetic, ``training_precision``: bf16 autocast and TF32 on CUDA), once for
one model and once stacked (every member in one vmapped step, as
``stack="always"`` trains them). A group's projected time is its steps (epochs x minibatches per
epoch, or an LC run's steps) times the faster of the two. Only training is projected: the
measurements (sharpness, LC logging, decision planes, partitions) are not.

For notebook 02's main sweep (the ConvNet width sweep of Gamba et al.) it also prints, per width,
epochs per second of one model alone and stacked, and the model FLOP utilisation (the FLOP of one
step from ``ddlib.models.cost.model_cost``, divided by the step time and the peak rate,
``--peak-tflops``: 989 is an H100 / H200's dense bf16 tensor rate). Issue 11's target: the
ConvNet sweep of the paper profile projected at <= 24 H100-hours.

Run on a GPU: ``python benchmarks/gpu_projection.py --device cuda``; a CPU check of the script:
``python benchmarks/gpu_projection.py --device cpu --profile smoke --steps 1 --warmup 0``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

import torch

from ddlib.core.data import DATASET_SHAPES
from ddlib.core.store import config_hash
from ddlib.models.cost import model_cost
from ddlib.models.zoo import zoo_specs
from ddlib.studies import resolve
from ddlib.studies.convnet_sharpness import experiment as convnet_sharpness
from ddlib.studies.decision_regions import experiment as decision_regions
from ddlib.studies.local_complexity import experiment as local_complexity
from ddlib.training.classifier import augment_crop_flip, make_optimizer
from ddlib.training.evaluation import loss_value
from ddlib.training.lc_logged import lc_optimizer
from ddlib.training.precision import training_precision
from ddlib.training.run_inputs import seeded_model
from ddlib.training.stacked import StackedModels, shape_groups


def data_shape(config: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """(training images, channels, side, classes) of a config's data, without loading it."""
    data = config["data"]
    shape = DATASET_SHAPES[data["name"]]
    pool_rest = shape.train - (data.get("test_size") or 0)
    images = data.get("train_size") or (shape.train if shape.test is not None else pool_rest)
    return images, shape.channels, data.get("pad_to") or shape.side, shape.classes


def steps_and_batch(config: Mapping[str, Any]) -> tuple[int, int]:
    """Optimiser steps of the whole run and images per step."""
    images = data_shape(config)[0]
    batch = min(config["batch_size"], images)
    if config.get("kind", "classifier") == "lc_training":
        return config["steps"], batch
    return config["epochs"] * math.ceil(images / batch), batch


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def step_flop(config: Mapping[str, Any]) -> float:
    """FLOP of one optimiser step of one model: its training FLOP per image (twice for SAM) plus
    a distillation teacher's forward pass, times the images per step."""
    _, channels, side, _ = data_shape(config)
    shape = (channels, side, side)
    sam = (config.get("kind", "classifier") != "lc_training"
           and config["optimizer"]["name"] == "sam")
    flop = (2 if sam else 1) * model_cost(config["model"], shape).training_flop
    if config.get("loss") == "distill_mse":
        flop += model_cost(config["teacher"]["model"], shape).forward_flop
    return float(flop * steps_and_batch(config)[1])


def step_seconds(configs: Sequence[Mapping[str, Any]], device: torch.device, steps: int,
                 warmup: int) -> float:
    """Seconds of one optimiser step of the first config alone; with several configs, of one
    stacked step of all of them."""
    config = configs[0]
    _, channels, side, classes = data_shape(config)
    batch = steps_and_batch(config)[1]
    models = [seeded_model(c).to(device) for c in configs]
    teacher = (seeded_model(config["teacher"]).to(device).eval()
               if config.get("loss") == "distill_mse" else None)
    if len(models) == 1:
        forward, parameters, shape = models[0], list(models[0].parameters()), (batch,)
    else:
        stacked = StackedModels(models)
        forward, parameters, shape = stacked, list(stacked.params.values()), (len(models), batch)
    lc_run = config.get("kind", "classifier") == "lc_training"
    optimizer = (lc_optimizer(config, parameters) if lc_run else
                 make_optimizer(config["optimizer"], parameters, stacked=len(models) > 1))
    data = torch.randn(*shape, channels, side, side, device=device)
    labels = torch.randint(0, classes, shape, device=device)
    augment = not lc_run and config.get("augment", "none") == "crop_flip"
    generator = torch.Generator().manual_seed(0)

    def one_step() -> None:
        """As the training loops step: augmentation and the teacher's logits, then the update."""
        images = data
        if augment:
            images = augment_crop_flip(data.flatten(0, len(shape) - 1), generator).reshape(data.shape)
        targets = None
        if teacher is not None:
            with torch.no_grad(), training_precision(device):
                targets = teacher(images.flatten(0, len(shape) - 1)).reshape(*shape, -1)

        def loss() -> torch.Tensor:
            with training_precision(device):
                logits = forward(images)
                if len(models) == 1:
                    return loss_value(config["loss"], logits, labels, targets)
                return sum(loss_value(config["loss"], logits[m], labels[m],
                                      None if targets is None else targets[m])
                           for m in range(len(models)))

        optimizer.zero_grad(set_to_none=True)
        loss().backward()
        if not lc_run and config["optimizer"]["name"] == "sam":
            optimizer.first_step(zero_grad=True)
            loss().backward()
            optimizer.second_step(zero_grad=True)
        else:
            optimizer.step()

    for _ in range(warmup):
        one_step()
    synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        one_step()
    synchronize(device)
    return (time.perf_counter() - started) / steps


def notebook_configs(notebook: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The training configs of a notebook (the study's ``training_configs``)."""
    if notebook == "02":
        return convnet_sharpness.training_configs(params)
    if notebook == "03":
        return local_complexity.training_configs(params)
    data = params["data"]
    shape = DATASET_SHAPES[data["name"]]
    sizes = {"in_channels": shape.channels, "image_size": data.get("pad_to") or shape.side,
             "num_classes": shape.classes}
    specs = zoo_specs(params["zoo_size"], **sizes)
    return decision_regions.training_configs(params, specs, **sizes)


def shape_of(members: Sequence[Mapping[str, Any]]) -> str:
    """What a group's step time depends on (groups of equal shape are timed once)."""
    first = members[0]
    return json.dumps([first["model"], first.get("optimizer"), first["loss"],
                       data_shape(first)[1:], steps_and_batch(first)[1],
                       first.get("teacher", {}).get("model"), len(members)], sort_keys=True)


def project(notebook: str, profile: str, device: torch.device, steps: int, warmup: int,
            peak: float) -> float:
    """Print the notebook's projection (for 02 also the main sweep per width); return its hours."""
    params = resolve(notebook, profile)
    configs = notebook_configs(notebook, params)
    main_sweep = ({config_hash(c) for c in convnet_sharpness.sweep_configs(params, "main")}
                  if notebook == "02" else set())
    measured: dict[str, tuple[float, float, float]] = {}  # shape -> (alone s, stacked s, FLOP)
    total = main_total = 0.0
    print(f"\nnotebook {notebook}, profile {profile}: {len(configs)} runs")
    if main_sweep:
        print("main sweep, per model:")
        print(f"{'width':>5} {'epochs/s alone':>15} {'epochs/s stacked':>17} {'MFU alone':>10} "
              f"{'MFU stacked':>12}")
    for group in shape_groups(configs):
        members = [configs[i] for i in group]
        shape = shape_of(members)
        if shape not in measured:
            alone = step_seconds(members[:1], device, steps, warmup)
            together = (step_seconds(members, device, steps, warmup) if len(members) > 1
                        else alone)
            measured[shape] = alone, together, step_flop(members[0])
        alone, together, flop = measured[shape]
        run_steps = steps_and_batch(members[0])[0]
        seconds = run_steps * min(alone * len(members), together)
        total += seconds
        if config_hash(members[0]) in main_sweep:
            main_total += seconds
            per_epoch = run_steps / members[0]["epochs"]
            print(f"{members[0]['model']['width']:>5} {1 / (alone * per_epoch):>15.2f} "
                  f"{len(members) / (together * per_epoch):>17.2f} {flop / alone / peak:>10.1%} "
                  f"{flop * len(members) / together / peak:>12.1%}")
    if main_sweep:
        print(f"main ConvNet sweep: {main_total / 3600:.3g} GPU-hours (issue 11's target for the "
              "paper profile: <= 24 H100-hours)")
    print(f"notebook {notebook}: {total / 3600:.3g} GPU-hours of training projected on {device} "
          f"({len(measured)} shapes timed, {steps} steps each)")
    return total / 3600


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--profile", default="paper", choices=("smoke", "laptop", "paper"))
    parser.add_argument("--notebooks", default="02,03,04")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per shape")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per shape first")
    parser.add_argument("--peak-tflops", type=float, default=989.0,
                        help="the device's peak rate for MFU [TFLOP/s]")
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"device {device} ({name}), {torch.get_num_threads()} CPU thread(s), "
          f"peak {args.peak_tflops:g} TFLOP/s for MFU")
    hours = {nb: project(nb, args.profile, device, args.steps, args.warmup,
                         args.peak_tflops * 1e12) for nb in args.notebooks.split(",")}
    print("\nprojected training hours: " + ", ".join(f"{nb} {h:.3g}" for nb, h in hours.items())
          + f"; total {sum(hours.values()):.3g}")


if __name__ == "__main__":
    main()
