"""SAM (Foret et al. Eq. 2) against a manual two-step computation."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from ddlib.training.sam import SAM


def make_problem(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(16, 5, generator=generator, dtype=torch.float64)
    y = torch.randn(16, 2, generator=generator, dtype=torch.float64)
    model = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    torch.manual_seed(seed)
    for p in model.parameters():
        nn.init.normal_(p)
    return model, x, y


def loss_at(model: nn.Module, weights: list[torch.Tensor], x, y) -> torch.Tensor:
    params = dict(zip((name for name, _ in model.named_parameters()), weights, strict=True))
    return ((torch.func.functional_call(model, params, (x,)) - y) ** 2).mean()


def manual_grad(model, weights, x, y) -> list[torch.Tensor]:
    leaves = [w.detach().clone().requires_grad_(True) for w in weights]
    return list(torch.autograd.grad(loss_at(model, leaves, x, y), leaves))


def test_sam_sgd_step_equals_manual_two_step_computation():
    model, x, y = make_problem()
    rho, lr = 0.1, 0.05
    w = [p.detach().clone() for p in model.parameters()]
    g = manual_grad(model, w, x, y)
    norm = torch.sqrt(sum((gi**2).sum() for gi in g))
    perturbed = [wi + rho * gi / norm for wi, gi in zip(w, g, strict=True)]
    g_sam = manual_grad(model, perturbed, x, y)
    expected = [wi - lr * gi for wi, gi in zip(w, g_sam, strict=True)]

    optimizer = SAM(model.parameters(), base="sgd", rho=rho, lr=lr)
    ((model(x) - y) ** 2).mean().backward()
    optimizer.first_step()
    for p, target in zip(model.parameters(), perturbed, strict=True):
        torch.testing.assert_close(p.detach(), target)  # ascended to w + rho g/|g|
        assert p.grad is None or bool((p.grad == 0).all())
    ((model(x) - y) ** 2).mean().backward()
    optimizer.second_step()
    for p, target in zip(model.parameters(), expected, strict=True):
        torch.testing.assert_close(p.detach(), target, rtol=0, atol=1e-14)


def test_sam_with_momentum_over_steps_matches_manual_and_closure():
    rho, lr, momentum = 0.05, 0.1, 0.9
    model, x, y = make_problem(1)
    w = [p.detach().clone() for p in model.parameters()]
    buffers = None
    for _ in range(3):
        g = manual_grad(model, w, x, y)
        norm = torch.sqrt(sum((gi**2).sum() for gi in g))
        g_sam = manual_grad(
            model, [wi + rho * gi / norm for wi, gi in zip(w, g, strict=True)], x, y
        )
        buffers = (
            g_sam
            if buffers is None
            else [momentum * b + gs for b, gs in zip(buffers, g_sam, strict=True)]
        )
        w = [wi - lr * b for wi, b in zip(w, buffers, strict=True)]

    optimizer = SAM(model.parameters(), base="sgd", rho=rho, lr=lr, momentum=momentum)

    def closure():
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        return loss

    for _ in range(3):
        optimizer.step(closure)
    for p, target in zip(model.parameters(), w, strict=True):
        torch.testing.assert_close(p.detach(), target, rtol=0, atol=1e-12)


def test_sam_differs_from_plain_sgd_and_zero_rho_equals_it():
    results = {}
    for rho in (0.0, 0.2):
        model, x, y = make_problem(2)
        optimizer = SAM(model.parameters(), base="adam", rho=rho, lr=0.01)
        for _ in range(2):
            ((model(x) - y) ** 2).mean().backward()
            optimizer.first_step()
            ((model(x) - y) ** 2).mean().backward()
            optimizer.second_step()
        results[rho] = torch.cat([p.detach().flatten() for p in model.parameters()])
    model, x, y = make_problem(2)
    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(2):
        adam.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        adam.step()
    plain = torch.cat([p.detach().flatten() for p in model.parameters()])
    torch.testing.assert_close(results[0.0], plain)
    assert not torch.allclose(results[0.2], plain)


def test_state_dict_round_trip_resumes_identically():
    model, x, y = make_problem(3)
    optimizer = SAM(model.parameters(), base="sgd", rho=0.05, lr=0.1, momentum=0.9)

    def step(opt, net):
        ((net(x) - y) ** 2).mean().backward()
        opt.first_step()
        ((net(x) - y) ** 2).mean().backward()
        opt.second_step()

    step(optimizer, model)
    twin, _, _ = make_problem(3)
    twin.load_state_dict(model.state_dict())
    twin_optimizer = SAM(twin.parameters(), base="sgd", rho=0.05, lr=0.1, momentum=0.9)
    twin_optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))  # as if saved
    step(optimizer, model)
    step(twin_optimizer, twin)
    for p, q in zip(model.parameters(), twin.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_bad_parameters_raise():
    model, _, _ = make_problem()
    with pytest.raises(ValueError, match="base"):
        SAM(model.parameters(), base="lbfgs", lr=0.1)
    with pytest.raises(ValueError, match="rho"):
        SAM(model.parameters(), rho=-1.0, lr=0.1)
    with pytest.raises(ValueError, match="backward"):
        SAM(model.parameters(), lr=0.1).first_step()
