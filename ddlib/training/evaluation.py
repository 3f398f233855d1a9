"""Models of finished runs, and their predictions, losses and errors on a split."""

from __future__ import annotations

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from ddlib.core.data import load_data
from ddlib.core.device import pick_device
from ddlib.core.store import Run
from ddlib.models import build_model


def loss_value(kind: str, logits: torch.Tensor, labels: torch.Tensor,
               teacher_logits: torch.Tensor | None = None) -> torch.Tensor:
    """The training losses by name.

    ``ce``: mean cross-entropy. ``mse_onehot``: squared error to one-hot targets summed over classes
    and averaged over the batch (Humayun et al.'s MSE). ``distill_mse``: mean squared error to a
    teacher's logits (soft distillation, Somepalli et al. Sec. 4.3).
    """
    if kind == "ce":
        return F.cross_entropy(logits, labels)
    if kind == "mse_onehot":
        targets = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
        return F.mse_loss(logits, targets, reduction="sum") / len(labels)
    if kind == "distill_mse":
        return F.mse_loss(logits, teacher_logits)
    raise ValueError(f"loss={kind!r} is unknown; allowed: ['ce', 'mse_onehot', 'distill_mse']")


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    """Logits of ``model`` (in eval mode) for ``x``, in batches on the model's device and dtype;
    returned on the CPU."""
    parameter = next(model.parameters())
    was_training = model.training
    model.eval()
    out = torch.cat([model(x[i:i + batch_size].to(parameter.device, parameter.dtype)).cpu()
                     for i in range(0, len(x), batch_size)])
    model.train(was_training)
    return out


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, loss: str = "ce",
             batch_size: int = 1024) -> dict[str, float]:
    """Mean ``loss``, error rate and accuracy of ``model`` on ``(x, y)``.

    The error is a float32 mean (as logged by classifier runs), the accuracy the exact fraction of
    correct predictions (as logged by LC runs).
    """
    logits = predict_logits(model, x, batch_size)
    wrong = logits.argmax(1) != y
    return {"loss": loss_value(loss, logits, y).item(), "error": wrong.float().mean().item(),
            "accuracy": int((~wrong).sum()) / len(y)}


def load_model(run: Run, checkpoint: int | None = None,
               device: str | torch.device = "cpu") -> nn.Module:
    """The model of a run with its final weights, or those of the kept ``checkpoint`` (an epoch
    of a classifier run, a step of an LC-logged run), in eval mode."""
    model = build_model(run.config["model"])
    model.load_state_dict(run.load_checkpoint(checkpoint))
    return model.to(pick_device(device)).eval()


def per_image_test_outcomes(run: Run, device: str | torch.device = "cpu") -> pd.DataFrame:
    """Per-image outcome of a finished classifier run on its test split, in the split's order:
    ``label`` (the true class), ``prediction`` and ``wrong`` (0 or 1). Their mean is the run's
    final test error; they are the units of a bootstrap over test images (a claim on a test-error
    curve, paired across the runs of a sweep, which share one test split). Computed once from the
    final weights and cached in the run folder as ``test-outcomes.json``; the run itself, and so
    its hash, is unchanged."""

    def compute() -> pd.DataFrame:
        data = load_data(run.config["data"])
        prediction = predict_logits(load_model(run, device=device), data.x_test).argmax(1)
        return pd.DataFrame({"label": data.y_test.numpy(), "prediction": prediction.numpy(),
                             "wrong": (prediction != data.y_test).numpy().astype(int)})

    return run.cached("test-outcomes", compute)
