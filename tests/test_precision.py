"""Training-step arithmetic per device (``ddlib.training.precision``): nothing changes on the CPU;
on CUDA bf16 autocast with float32 master weights and TF32, switched back afterwards."""

import warnings

import pytest
import torch
from torch import nn

from ddlib.training.precision import training_precision


def test_cpu_steps_are_unchanged():
    torch.manual_seed(0)
    layer, x = nn.Conv2d(3, 4, 3), torch.randn(2, 3, 8, 8)
    before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    with training_precision(torch.device("cpu")):
        inside = layer(x)
        assert not torch.is_autocast_enabled("cpu") and not torch.is_autocast_enabled("cuda")
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == before
    assert inside.dtype == torch.float32 and torch.equal(inside, layer(x))


def test_cuda_switches_tf32_on_inside_and_restores_it():
    original = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # without a GPU torch warns that autocast is disabled
            with training_precision(torch.device("cuda")):
                assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32
                assert torch.get_autocast_dtype("cuda") == torch.bfloat16
        assert torch.backends.cuda.matmul.allow_tf32 is False
        with pytest.raises(RuntimeError, match="inside"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with training_precision(torch.device("cuda")):
                raise RuntimeError("inside")
        assert torch.backends.cuda.matmul.allow_tf32 is False  # restored after an error too
    finally:
        torch.backends.cuda.matmul.allow_tf32 = original


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_forward_is_bf16_with_float32_master_weights():
    layer = nn.Linear(16, 4).cuda()
    with training_precision(torch.device("cuda")):
        out = layer(torch.randn(8, 16, device="cuda"))
        loss = nn.functional.cross_entropy(out, torch.zeros(8, dtype=torch.long, device="cuda"))
    assert out.dtype == torch.bfloat16 and loss.dtype == torch.float32
    loss.backward()
    assert layer.weight.dtype == layer.weight.grad.dtype == torch.float32
