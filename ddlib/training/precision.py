"""The arithmetic of training steps per device: bf16 on CUDA, float32 (bit-repeatable) on the CPU.

On CUDA the forward pass and the loss of every training step run under ``torch.autocast`` with
bfloat16 (the parameters, their gradients and the optimiser state stay float32: the float32
"master weights" of mixed-precision training; bf16 has float32's exponent range, so no loss
scaling is needed), and float32 matmuls and convolutions left outside autocast may use TF32.
Evaluation and every metric run outside it, without autocast and with the TF32 switches as the
user left them (PyTorch's defaults: TF32 off for matmuls, on for cuDNN convolutions). On the CPU
nothing changes, so CPU results stay bit-for-bit repeatable. Float64 models are left alone
(autocast casts float32 tensors only).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def training_precision(device: torch.device) -> Iterator[None]:
    """Wrap a training step's forward pass and loss: bf16 autocast + TF32 on CUDA, nothing on
    the CPU. The TF32 switches are restored on exit."""
    if device.type != "cuda":
        yield
        return
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = matmul, cudnn
