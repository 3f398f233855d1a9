"""Model registry: ``build_model({"name": "convnet", "width": 4, ...})``.

Every entry but ``name`` goes to the constructor. Modules are imported on first use, so a model
family's dependencies are only needed when it is built.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from torch import nn

REGISTRY = {
    "convnet": ("ddlib.models.convnet", "ConvNet"),
    "preact_resnet18": ("ddlib.models.resnet", "PreActResNet18"),
    "mlp": ("ddlib.models.mlp", "MLP"),
    "vgg": ("ddlib.models.zoo", "VGG"),
    "densenet": ("ddlib.models.zoo", "DenseNet"),
    "wide_resnet": ("ddlib.models.zoo", "WideResNet"),
    "vit": ("ddlib.models.zoo", "ViT"),
    "mlp_mixer": ("ddlib.models.zoo", "MLPMixer"),
}


def build_model(spec: Mapping[str, Any]) -> nn.Module:
    """Construct the model named by ``spec["name"]`` with the remaining entries as arguments."""
    arguments = dict(spec)
    name = arguments.pop("name", None)
    if name not in REGISTRY:
        raise ValueError(f"model name={name!r} is unknown; allowed: {sorted(REGISTRY)}")
    module, cls = REGISTRY[name]
    return getattr(importlib.import_module(module), cls)(**arguments)


def parameter_count(model: nn.Module) -> int:
    """Number of trainable and non-trainable parameters."""
    return sum(p.numel() for p in model.parameters())
