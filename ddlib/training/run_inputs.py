"""What a run starts from: the model its seed initialises and the split it trains on."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from ddlib.core.data import ClassificationData, load_data
from ddlib.models import build_model


def seeded_model(config: Mapping[str, Any]) -> nn.Module:
    """The config's model initialised from ``config["seed"]``, leaving the global RNG untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config["seed"])
        return build_model(config["model"])


def training_data(config: Mapping[str, Any], allow_download: bool = False) -> ClassificationData:
    """The split a config trains on (``config["data"]`` are ``load_classification`` arguments),
    kept in memory across the runs of a sweep; treat its tensors as read-only."""
    spec = dict(config["data"])
    if allow_download:
        spec["allow_download"] = True
    return load_data(spec)
