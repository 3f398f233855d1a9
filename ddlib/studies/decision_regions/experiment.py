"""The experiments of notebook 04 (Somepalli et al. 2022) as run-store configs and result tables.

Every model is a :mod:`ddlib.training.classifier` run; its argmax images on a set of planes are cached in the
run's folder (``planes_<hash>.pt``, keyed by the planes' specification), so re-running a finished
notebook neither trains nor predicts again. The studies:

- architectures: several families x seeds on the same triplets -> similarity matrix (Fig. 2);
- optimisers: Adam / SGD / SGD+SAM per architecture -> reproducibility and test accuracy (Table 1);
- distillation: student-teacher similarity of distilled vs independently trained students (Fig. 5);
- width: test error, fragmentation and seed-to-seed similarity vs width, with and without label
  noise (Figs. 7-8).

:func:`run` is the notebook's one entry.
"""

from __future__ import annotations

import itertools
import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ddlib import execution
from ddlib.analysis import interpolation_threshold
from ddlib.core.data import ClassificationData, load_data
from ddlib.core.params import Params
from ddlib.core.progress import progress
from ddlib.core.store import CorruptRunError, Run, atomic_torch_save, config_hash
from ddlib.metrics.decision_planes import (
    PlaneBatch,
    planes_through_triplets,
    predict_planes,
    sample_triplets,
)
from ddlib.metrics.similarity import (
    fragmentation,
    matrix_of_pairs,
    pairwise_similarity_per_plane,
    region_similarity_per_plane,
    similarity_pairs_per_plane,
)
from ddlib.models import build_model, parameter_count
from ddlib.models.zoo import zoo_specs
from ddlib.training import load_model
from ddlib.training.evaluation import per_image_test_outcomes

CONVOLUTIONAL = ("convnet", "preact_resnet18", "wide_resnet", "densenet", "vgg")
PATCH_BASED = ("vit", "mlp_mixer")


def classifier_config(
    model: Mapping[str, Any],
    data: Mapping[str, Any],
    optimizer: Mapping[str, Any],
    *,
    epochs: int,
    batch_size: int,
    seed: int,
    data_seed: int,
    augment: str = "none",
    teacher: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A :mod:`ddlib.training.classifier` config; with ``teacher`` the loss is soft distillation (MSE to the
    teacher's logits, Somepalli et al. Sec. 4.3), otherwise cross-entropy."""
    config: dict[str, Any] = {
        "kind": "classifier",
        "model": dict(model),
        "data": dict(data),
        "optimizer": dict(optimizer),
        "loss": "ce",
        "epochs": epochs,
        "batch_size": batch_size,
        "seed": seed,
        "data_seed": data_seed,
        "augment": augment,
        "checkpoint_epochs": [],
        "eval_epochs": [epochs],
    }
    if teacher is not None:
        config["loss"] = "distill_mse"
        config["teacher"] = dict(teacher)
    return config


def architecture_configs(
    params: Mapping[str, Any], specs: Mapping[str, Mapping[str, Any]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """{(architecture, seed): config} of the architecture study (Somepalli et al. Sec. 4.1)."""
    return {
        (label, seed): _study_config(params, specs[label], params["optimizer"], seed)
        for label in params["architectures"]
        for seed in params["seeds"]
    }


def optimizer_configs(
    params: Mapping[str, Any], specs: Mapping[str, Mapping[str, Any]]
) -> dict[tuple[str, str, int], dict[str, Any]]:
    """{(optimiser, architecture, seed): config} of the optimiser table (Somepalli et al. Table 1)."""
    return {
        (name, label, seed): _study_config(params, specs[label], optimizer, seed)
        for name, optimizer in params["optimizer_study"].items()
        for label in params["optimizer_architectures"]
        for seed in params["seeds"]
    }


def distillation_configs(
    params: Mapping[str, Any], specs: Mapping[str, Mapping[str, Any]]
) -> dict[tuple[str, int], dict[str, Any]]:
    """{(student, seed): config} of students distilled from the seed-0 teacher of the
    architecture study (soft distillation: MSE to the teacher's logits, Somepalli et al. Sec. 4.3)."""
    teacher = _study_config(
        params, specs[params["teacher"]], params["optimizer"], params["seeds"][0]
    )
    return {
        (label, seed): _study_config(
            params, specs[label], params["optimizer"], seed, teacher=teacher
        )
        for label in params["students"]
        for seed in params["seeds"]
    }


def width_configs(
    params: Mapping[str, Any], *, in_channels: int, image_size: int, num_classes: int
) -> dict[tuple[float, int, int], dict[str, Any]]:
    """{(label noise, width, seed): config} of the width study (Somepalli et al. Sec. 5)."""
    base = dict(params["width_model"])
    if base["name"] == "mlp":
        base.update(in_features=in_channels * image_size**2, num_classes=num_classes)
    else:
        base.update(in_channels=in_channels, num_classes=num_classes)
    configs = {}
    for noise in params["label_noises"]:
        data = {**params["data"], "label_noise": float(noise), "noise_seed": 0}
        if params["width_train_size"] is not None:
            data["train_size"] = params["width_train_size"]
        for width in params["widths"]:
            for seed in params["width_seeds"]:
                configs[(float(noise), width, seed)] = classifier_config(
                    {**base, "width": width},
                    data,
                    params["width_optimizer"],
                    epochs=params["width_epochs"],
                    batch_size=params["width_batch_size"],
                    seed=seed,
                    data_seed=0 if params["same_data_order"] else seed,
                    augment=params["width_augment"],
                )
    return configs


def _study_config(
    params: Mapping[str, Any],
    spec: Mapping[str, Any],
    optimizer: Mapping[str, Any],
    seed: int,
    teacher: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return classifier_config(
        spec,
        params["data"],
        optimizer,
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        seed=seed,
        data_seed=0 if params["same_data_order"] else seed,
        augment=params["augment"],
        teacher=teacher,
    )


def training_configs(params: Mapping[str, Any], specs: Mapping[str, Mapping[str, Any]], *,
                     in_channels: int, image_size: int, num_classes: int) -> list[dict[str, Any]]:
    """Every training config the notebook trains: the architecture, optimiser, distillation and
    width studies, and the distillation teacher where the architecture study does not train it
    (for cost projections, ``benchmarks/gpu_projection.py``)."""
    students = list(distillation_configs(params, specs).values())
    configs = [*architecture_configs(params, specs).values(),
               *optimizer_configs(params, specs).values(),
               *students,
               *width_configs(params, in_channels=in_channels, image_size=image_size,
                              num_classes=num_classes).values()]
    trained = {config_hash(config) for config in configs}
    teachers = {config_hash(s["teacher"]): s["teacher"] for s in students}
    return configs + [t for key, t in teachers.items() if key not in trained]


def train_all(params: Params, configs: Mapping[Any, Mapping[str, Any]], device: str = "auto", *,
              later: Sequence[Mapping[str, Any]] = ()) -> dict[Any, Run]:
    """Train (or load) every config where ``params.executor`` says; returns the runs under the same
    keys. ``later``: configs trained afterwards, offered meanwhile to a helper on an idle core
    (:func:`ddlib.execution.run_sweep`)."""
    runs = execution.run_sweep(list(configs.values()), device=device, executor=params.executor,
                               executor_options=params.executor_options, later=later)
    return dict(zip(configs, runs, strict=True))


def train_architecture_study(params: Params, specs: Mapping[str, Mapping[str, Any]], *,
                             in_channels: int, image_size: int, num_classes: int,
                             device: str = "auto") -> dict[tuple[str, int], Run]:
    """Train (or load) the architecture study: {(architecture, seed): run}. The optimiser,
    distillation and width sweeps, which the notebook trains later, are offered meanwhile to a
    helper on an idle core (``run_all.sh``'s free lane), which trains them bit-identically while
    the notebook computes the architecture study's planes; without a board nothing is offered."""
    configs = architecture_configs(params, specs)
    later = training_configs(params, specs, in_channels=in_channels, image_size=image_size,
                             num_classes=num_classes)[len(configs):]
    return train_all(params, configs, device, later=later)


def family_kind(spec: Mapping[str, Any]) -> str:
    """ "conv", "vit", "mlp_mixer" or "mlp": the family groups the paper's claims compare."""
    name = spec["name"]
    if name in CONVOLUTIONAL:
        return "conv"
    if name in PATCH_BASED:
        return name
    if name == "mlp":
        return "mlp"
    raise ValueError(
        f"model name={name!r} has no family; known: {CONVOLUTIONAL + PATCH_BASED + ('mlp',)}"
    )


def widen_factors(specs: Mapping[str, Mapping[str, Any]], labels: Sequence[str]) -> dict[str, int]:
    """{label: widen factor} of the WideResNets among ``labels`` (the "wide architectures" of
    Somepalli et al.'s abstract)."""
    return {label: int(specs[label]["widen"]) for label in labels
            if specs[label]["name"] == "wide_resnet"}


def planes_on_test_set(
    data: ClassificationData,
    data_spec: Mapping[str, Any],
    *,
    n_triplets: int,
    seed: int,
    resolution: int,
    margin: float,
) -> tuple[PlaneBatch, Tensor, dict[str, Any]]:
    """Planes through ``n_triplets`` seeded test triplets of distinct classes, their [P, 3] class
    labels, and the specification (``data_spec`` names the test set) of their cached predictions."""
    triplets = sample_triplets(data.y_test, n_triplets, seed)
    planes = planes_through_triplets(data.x_test, triplets, resolution=resolution, margin=margin)
    test_set = {k: v for k, v in data_spec.items() if k not in ("label_noise", "noise_seed")}
    spec = {
        "data": test_set,
        "n_triplets": n_triplets,
        "seed": seed,
        "resolution": resolution,
        "margin": margin,
    }
    return planes, data.y_test[triplets], spec


def run_predictions(
    runs: Sequence[Run],
    planes: PlaneBatch,
    plane_spec: Mapping[str, Any],
    *,
    chunk_size: int = 512,
    device: str = "auto",
) -> Tensor:
    """[M, P, R, R] argmax images of the runs' final models on ``planes``, cached per run.

    Runs without a cached (and readable) result are predicted together in one batched pass.
    """
    name = f"planes_{config_hash(dict(plane_spec))}.pt"
    cached: dict[int, Tensor] = {}
    missing = []
    for index, run in enumerate(runs):
        try:
            prediction = torch.load(run.dir / name, weights_only=True).long()
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError):
            missing.append(index)  # absent, truncated or corrupted: recomputed, never used
            continue
        if prediction.shape != (len(planes), planes.resolution, planes.resolution):
            missing.append(index)
            continue
        cached[index] = prediction
    batch = 8  # models per pass: bounds memory, keeps a progress bar
    for start in progress(range(0, len(missing), batch), "plane predictions"):
        chosen = missing[start : start + batch]
        models = [load_model(runs[i], device="cpu") for i in chosen]
        predicted = predict_planes(models, planes, chunk_size=chunk_size, device=device)
        for i, prediction in zip(chosen, predicted, strict=True):
            atomic_torch_save(runs[i].dir / name, prediction.to(torch.uint8))
            cached[i] = prediction
    return torch.stack([cached[i] for i in range(len(runs))])


def final_test_error(run: Run) -> float:
    """Final test error of a finished run."""
    if not run.is_complete():
        raise CorruptRunError(f"run {run.id} is not finished")
    return float(run.result()["summary"]["test_error"])


def final_train_error(run: Run) -> float:
    """Final training error (on the training labels, noisy where label noise > 0)."""
    return float(run.result()["summary"]["train_error"])


def width_table(
    runs: Mapping[tuple[float, int, int], Run], planes: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """One row per (label noise, width): mean test/train error and fragmentation over seeds and the
    seed-to-seed similarity (``runs`` keyed by (noise, width, seed)); the last two are the plane
    means of ``planes`` (:func:`width_plane_values`)."""
    fragments, similarities = planes["fragmentation"], planes["similarity"]
    rows = []
    for noise, width in sorted({(n, w) for n, w, _ in runs}):
        seeds = sorted(s for n, w, s in runs if (n, w) == (noise, width))
        rows.append(
            {
                "label_noise": noise,
                "width": width,
                "train_error": float(
                    np.mean([final_train_error(runs[(noise, width, s)]) for s in seeds])
                ),
                "test_error": float(
                    np.mean([final_test_error(runs[(noise, width, s)]) for s in seeds])
                ),
                "test_error_std": float(  # population std (ddof 0), as analysis.seed_bands
                    np.std([final_test_error(runs[(noise, width, s)]) for s in seeds])
                ) if len(seeds) > 1 else float("nan"),
                "fragmentation": float(fragments.loc[(noise, width)].mean()),
                "similarity": float(similarities.loc[(noise, width)].mean())
                if (noise, width) in similarities.index else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def width_plane_values(
    runs: Mapping[tuple[float, int, int], Run], predictions: Mapping[tuple[float, int, int], Tensor]
) -> dict[str, pd.DataFrame]:
    """Per-plane values of the width study, for a bootstrap over planes.

    ``{"fragmentation": ..., "similarity": ...}``, each with a (label noise, width) row index and
    one column per plane: fragmentation averaged over seeds, and seed-to-seed similarity averaged
    over the pairs of distinct seeds (rows of a single-seed width are left out of "similarity").
    The plane means of these rows are the ``fragmentation`` and ``similarity`` of :func:`width_table`.
    """
    fragments: dict[tuple[float, int], np.ndarray] = {}
    similarities: dict[tuple[float, int], np.ndarray] = {}
    for noise, width in sorted({(n, w) for n, w, _ in runs}):
        seeds = sorted(s for n, w, s in runs if (n, w) == (noise, width))
        preds = [predictions[(noise, width, s)] for s in seeds]
        fragments[(noise, width)] = np.mean([fragmentation(p).double().numpy() for p in preds], 0)
        pairs = list(itertools.combinations(preds, 2))
        if pairs:
            similarities[(noise, width)] = np.mean(
                [region_similarity_per_plane(p, q).numpy() for p, q in pairs], 0)

    def frame(values: dict[tuple[float, int], np.ndarray]) -> pd.DataFrame:
        index = pd.MultiIndex.from_tuples(list(values), names=["label_noise", "width"])
        return pd.DataFrame(np.stack(list(values.values())) if values else np.zeros((0, 0)),
                            index=index)

    return {"fragmentation": frame(fragments), "similarity": frame(similarities)}


def width_test_outcomes(runs: Mapping[tuple[float, int, int], Run],
                        device: str = "auto") -> pd.DataFrame:
    """Per-image test outcomes of the width study, for a bootstrap over test images.

    A (label noise, width) row index and one column per test image: the fraction of seeds that
    misclassify it (:func:`ddlib.training.evaluation.per_image_test_outcomes`, cached per run). Every
    run of the sweep is scored on the same test split, so the columns pair the widths; the row
    means are the ``test_error`` of :func:`width_table`.
    """
    rows = {}
    for noise, width in sorted({(n, w) for n, w, _ in runs}):
        seeds = sorted(s for n, w, s in runs if (n, w) == (noise, width))
        rows[(noise, width)] = np.mean([per_image_test_outcomes(runs[(noise, width, s)], device)
                                        ["wrong"].to_numpy(dtype=float) for s in seeds], axis=0)
    index = pd.MultiIndex.from_tuples(list(rows), names=["label_noise", "width"])
    return pd.DataFrame(np.stack(list(rows.values())), index=index)


def optimizer_plane_values(predictions: Mapping[tuple[str, str, int], Tensor]) -> pd.DataFrame:
    """Seed-to-seed similarity per plane of the optimiser table, for a bootstrap over planes: an
    (architecture, optimiser) row index, one column per plane (the same planes in every row), each
    row averaged over the pairs of distinct seeds; row means are :func:`optimizer_table`'s
    ``similarity``. ``predictions`` keyed by (optimiser, architecture, seed)."""
    rows = {}
    for name, label in dict.fromkeys((n, a) for n, a, _ in predictions):
        group = [p for (n, a, _), p in predictions.items() if (n, a) == (name, label)]
        rows[(label, name)] = pairwise_similarity_per_plane(group).numpy()
    index = pd.MultiIndex.from_tuples(list(rows), names=["architecture", "optimizer"])
    return pd.DataFrame(np.stack(list(rows.values())), index=index)


def distillation_plane_values(teacher: Tensor, vanilla: Mapping[tuple[str, int], Tensor],
                              distilled: Mapping[tuple[str, int], Tensor]) -> pd.DataFrame:
    """Similarity to the teacher per plane, for a bootstrap over planes: a (student, training) row
    index ("vanilla" or "distilled"), one column per plane, each row averaged over the student's
    seeds; row means are :func:`distillation_table`'s ``similarity_to_teacher``."""
    rows = {}
    for label in dict.fromkeys(a for a, _ in distilled):
        for kind, predictions in (("vanilla", vanilla), ("distilled", distilled)):
            students = [p for (a, _), p in predictions.items() if a == label]
            rows[(label, kind)] = np.mean(
                [region_similarity_per_plane(teacher, p).numpy() for p in students], axis=0)
    index = pd.MultiIndex.from_tuples(list(rows), names=["student", "training"])
    return pd.DataFrame(np.stack(list(rows.values())), index=index)


def optimizer_table(
    runs: Mapping[tuple[str, str, int], Run], planes: pd.DataFrame
) -> pd.DataFrame:
    """Rows (architecture, optimiser): seed-to-seed region similarity (the plane mean of
    ``planes``, :func:`optimizer_plane_values`) and mean test accuracy (Somepalli et al. Table 1);
    ``runs`` keyed by (optimiser, architecture, seed)."""
    rows = []
    for name, label in dict.fromkeys((n, a) for n, a, _ in runs):
        seeds = sorted(s for n, a, s in runs if (n, a) == (name, label))
        rows.append(
            {
                "architecture": label,
                "optimizer": name,
                "similarity": float(planes.loc[(label, name)].mean()),
                "test_accuracy": 1.0
                - float(np.mean([final_test_error(runs[(name, label, s)]) for s in seeds])),
            }
        )
    return pd.DataFrame(rows)


def distillation_table(planes: pd.DataFrame,
                       runs: Mapping[str, Mapping[tuple[str, int], Run]]) -> pd.DataFrame:
    """Rows per student architecture: region similarity to the teacher (the plane mean of
    ``planes``, :func:`distillation_plane_values`) of students trained on the labels
    ("vanilla") and of students distilled from it ("distilled"), and their test accuracy;
    ``runs`` holds the runs under "vanilla" and "distilled", keyed by (architecture, seed)."""
    rows = []
    for label, kind in planes.index:
        keys = [k for k in runs[kind] if k[0] == label]
        rows.append({"student": label, "training": kind,
                     "similarity_to_teacher": float(planes.loc[(label, kind)].mean()),
                     "test_accuracy": 1.0 - float(np.mean([final_test_error(runs[kind][k])
                                                           for k in keys]))})
    return pd.DataFrame(rows)


def similarity_pairs_of(
    runs: Mapping[tuple[str, int], Run], predictions: Tensor, labels: Sequence[str]
) -> pd.DataFrame:
    """Per-plane similarity of every pair of architectures (:func:`similarity_pairs_per_plane`)
    from predictions stacked in the order of ``runs``: the units of the matrix claims' bootstrap."""
    grouped: dict[str, list[Tensor]] = {label: [] for label in labels}
    for (label, _), prediction in zip(runs, predictions, strict=True):
        grouped[label].append(prediction)
    return similarity_pairs_per_plane(grouped)


def architecture_summary(runs: Mapping[tuple[str, int], Run], predictions: Tensor) -> pd.DataFrame:
    """Per architecture (mean over seeds): test accuracy, training error and fragmentation."""
    rows = [
        {
            "architecture": label,
            "seed": seed,
            "test_accuracy": 1.0 - final_test_error(run),
            "train_error": final_train_error(run),
            "fragmentation": float(fragmentation(prediction).double().mean()),
        }
        for ((label, seed), run), prediction in zip(runs.items(), predictions, strict=True)
    ]
    table = pd.DataFrame(rows).drop(columns="seed")
    return table.groupby("architecture", sort=False).mean()


def figure_panels(
    runs: Mapping[tuple[str, int], Run], predictions: Tensor, n_planes: int
) -> tuple[dict[str, list[Tensor]], list[int], list[str]]:
    """Rows (architecture -> images), the plane of each column and column titles for
    ``region_grid``: every plane is shown once per seed, so seeds sit side by side."""
    by_key = dict(zip(runs, predictions, strict=True))
    seeds = list(dict.fromkeys(seed for _, seed in runs))
    columns = [(plane, seed) for plane in range(n_planes) for seed in seeds]
    rows = {
        label: [by_key[(label, seed)][plane] for plane, seed in columns]
        for label in dict.fromkeys(label for label, _ in runs)
    }
    return rows, [plane for plane, _ in columns], [f"seed {seed}" for _, seed in columns]


def thresholds_by_noise(table: pd.DataFrame, tolerance: float) -> dict[float, int | None]:
    """Interpolation threshold of each label-noise rate of a ``width_table``."""
    return {
        float(noise): interpolation_threshold(
            rows["width"].tolist(), rows["train_error"].tolist(), tolerance
        )
        for noise, rows in table.groupby("label_noise")
    }


@dataclass
class DecisionRegionsResult:
    """Everything notebook 04 plots and judges. Runs and predictions of a study are keyed alike:
    (architecture, seed), (optimiser, architecture, seed), (student, seed), (label noise, width,
    seed)."""

    dataset: ClassificationData  # the data of the architecture, optimiser and distillation studies
    specs: dict[str, dict[str, Any]]  # the model zoo for that data
    kinds: dict[str, str]  # {architecture: family} (:func:`family_kind`)
    planes: PlaneBatch  # scoring planes through test triplets
    figure_planes: PlaneBatch  # the planes of the decision-region figure
    figure_anchor_classes: Tensor  # [P, 3] classes of their anchors
    architecture_runs: dict[tuple[str, int], Run]
    architecture_predictions: Tensor  # [M, P, R, R] on ``planes``, in the order of the runs
    figure_predictions: Tensor  # the same models on ``figure_planes``
    matrix: pd.DataFrame  # architecture similarity matrix
    matrix_planes: pd.DataFrame  # :func:`similarity_pairs_of`: the matrix per plane
    optimizer_runs: dict[tuple[str, str, int], Run]
    optimizer_table: pd.DataFrame  # :func:`optimizer_table`
    optimizer_planes: pd.DataFrame  # :func:`optimizer_plane_values`
    distillation_runs: dict[tuple[str, int], Run]
    distillation_table: pd.DataFrame  # :func:`distillation_table`
    distillation_planes: pd.DataFrame  # :func:`distillation_plane_values`
    width_runs: dict[tuple[float, int, int], Run]
    width_dataset: ClassificationData  # the width study's own split and normalisation
    width_table: pd.DataFrame  # :func:`width_table`
    width_planes: dict[str, pd.DataFrame]  # :func:`width_plane_values`, for the bootstrap
    width_test_images: pd.DataFrame  # :func:`width_test_outcomes`, for the bootstrap
    thresholds: dict[float, int | None]  # interpolation threshold per label-noise rate

    def architecture_table(self, architectures: Sequence[str]) -> pd.DataFrame:
        """Family, parameter count and spec of each architecture."""
        return pd.DataFrame({
            label: {"family": self.kinds[label],
                    "parameters": parameter_count(build_model(self.specs[label])),
                    "spec": self.specs[label]}
            for label in architectures}).T

    def architecture_summary(self) -> pd.DataFrame:
        """:func:`architecture_summary` of the architecture study."""
        return architecture_summary(self.architecture_runs, self.architecture_predictions)


def run(params: Params, device: str = "auto") -> DecisionRegionsResult:
    """Notebook 04's study: train (or load) the architecture, optimiser, distillation and width
    studies, in that order, predict their planes (cached per run) and tabulate them. While the
    architecture study trains, the later sweeps are offered to a helper on an idle core
    (:func:`train_architecture_study`)."""
    dataset = load_data(params["data"])
    shape = {"in_channels": dataset.x_test.shape[1], "image_size": dataset.x_test.shape[-1],
             "num_classes": dataset.num_classes}
    specs = zoo_specs(params["zoo_size"], **shape)
    kinds = {label: family_kind(specs[label]) for label in params["architectures"]}
    planes, _, plane_spec = planes_on_test_set(
        dataset, params["data"], n_triplets=params["n_triplets"], seed=params["triplet_seed"],
        resolution=params["resolution"], margin=params["margin"])
    figure_planes, anchor_classes, figure_spec = planes_on_test_set(
        dataset, params["data"], n_triplets=params["figure_planes"], seed=params["triplet_seed"] + 1,
        resolution=params["figure_resolution"], margin=params["figure_margin"])

    def predict(runs: Mapping[Any, Run], on: PlaneBatch, spec: Mapping[str, Any]) -> Tensor:
        return run_predictions(list(runs.values()), on, spec, chunk_size=params["chunk_size"],
                               device=device)

    arch_runs = train_architecture_study(params, specs, **shape, device=device)
    arch_predictions = predict(arch_runs, planes, plane_spec)
    figure_predictions = predict(arch_runs, figure_planes, figure_spec)
    matrix_planes = similarity_pairs_of(arch_runs, arch_predictions, params["architectures"])

    opt_runs = train_all(params, optimizer_configs(params, specs), device=device)
    opt_predictions = dict(zip(opt_runs, predict(opt_runs, planes, plane_spec)))
    opt_planes = optimizer_plane_values(opt_predictions)

    distill_runs = train_all(params, distillation_configs(params, specs), device=device)
    distilled = dict(zip(distill_runs, predict(distill_runs, planes, plane_spec)))
    arch_by_key = dict(zip(arch_runs, arch_predictions))
    teacher = arch_by_key[(params["teacher"], params["seeds"][0])]
    vanilla = {key: pred for key, pred in arch_by_key.items() if key[0] in params["students"]}
    distill_planes = distillation_plane_values(teacher, vanilla, distilled)

    width_runs = train_all(params, width_configs(params, **shape), device=device)
    width_data = next(iter(width_runs.values())).config["data"]
    width_dataset = load_data(width_data)
    width_planes, _, width_plane_spec = planes_on_test_set(
        width_dataset, width_data, n_triplets=params["width_n_triplets"],
        seed=params["triplet_seed"], resolution=params["resolution"], margin=params["margin"])
    width_predictions = dict(zip(width_runs, predict(width_runs, width_planes, width_plane_spec)))
    width_planes_values = width_plane_values(width_runs, width_predictions)
    widths = width_table(width_runs, width_planes_values)
    return DecisionRegionsResult(
        dataset, specs, kinds, planes, figure_planes, anchor_classes, arch_runs, arch_predictions,
        figure_predictions, matrix_of_pairs(matrix_planes), matrix_planes, opt_runs,
        optimizer_table(opt_runs, opt_planes), opt_planes, distill_runs,
        distillation_table(distill_planes, {"vanilla": arch_runs, "distilled": distill_runs}),
        distill_planes, width_runs, width_dataset, widths,
        width_planes_values, width_test_outcomes(width_runs, device),
        thresholds_by_noise(widths, params["interpolation_tolerance"]))
