"""Device choice and the provenance recorded with every result."""

from __future__ import annotations

import platform
import sys

import numpy as np
import torch

ALLOWED_DEVICES = ("auto", "cpu", "cuda")


def pick_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` picks CUDA when present, else the CPU; ``"cuda"`` fails clearly without a GPU."""
    if isinstance(device, torch.device):
        return device
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.split(":")[0] not in ALLOWED_DEVICES:
        raise ValueError(f"device={device!r} is not allowed; use one of {ALLOWED_DEVICES}")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but torch sees no CUDA device")
    return torch.device(name)


def environment_info(device: torch.device | None = None) -> dict[str, str]:
    """Library versions and the device, stored next to every result."""
    device = device or pick_device("auto")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor()
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "device": str(device),
        "device_name": name or platform.machine(),
    }
