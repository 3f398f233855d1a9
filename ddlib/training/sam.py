"""Sharpness-aware minimisation (Foret et al., ICLR 2021, Eq. 2), used by Somepalli et al. Table 1.

One SAM update of the weights w with loss L, radius rho and a base optimiser (SGD, Adam):

    g     = grad L(w)
    e     = rho g / ||g||            (||.|| the global L2 norm over every parameter)
    g_sam = grad L(w + e)
    w    <- base_step(w, g_sam)      (from the original w, restored exactly before the update)

Usage (two forward/backward passes per batch):

    loss_fn(model(x), y).backward(); optimizer.first_step()
    loss_fn(model(x), y).backward(); optimizer.second_step()

With ``stacked=True`` the parameters are those of a stacked ensemble (dimension 0 indexes the
member, ``ddlib.training.stacked``): ||g|| and e are computed for every member separately, so each
member takes exactly the step it would take alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

BASE_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


class SAM(torch.optim.Optimizer):
    """SAM around a base optimiser named ``base`` (one of BASE_OPTIMIZERS) built with ``base_kwargs``."""

    def __init__(self, params: Iterable, base: str = "sgd", rho: float = 0.05,
                 stacked: bool = False, **base_kwargs):
        if base not in BASE_OPTIMIZERS:
            raise ValueError(f"base must be one of {sorted(BASE_OPTIMIZERS)}, got {base!r}")
        if not rho >= 0.0:
            raise ValueError(f"rho must be a non-negative radius, got {rho!r}")
        super().__init__(params, {"rho": rho, **base_kwargs})
        self.base_optimizer = BASE_OPTIMIZERS[base](self.param_groups, **base_kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.stacked = stacked

    @torch.no_grad()
    def _grad_norm(self) -> torch.Tensor:
        """The global L2 norm of the gradient: a scalar, or one per member when stacked."""
        grads = [p.grad for group in self.param_groups for p in group["params"]
                 if p.grad is not None]
        if not grads:
            raise ValueError("first_step needs gradients: call loss.backward() before it")
        if self.stacked:
            norms = torch.stack([g.flatten(1).norm(2, dim=1) for g in grads], dim=1)
            return torch.linalg.vector_norm(norms, 2, dim=1)
        return torch.linalg.vector_norm(torch.stack([g.norm(2) for g in grads]), 2)

    @torch.no_grad()
    def first_step(self, zero_grad: bool = True) -> None:
        """Ascend to w + rho g / ||g|| and remember w."""
        grad_norm = self._grad_norm()
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["w"] = p.detach().clone()
                member_scale = scale.view(-1, *[1] * (p.dim() - 1)) if self.stacked else scale
                p.add_(p.grad * member_scale.to(p.device))
        if zero_grad:
            self.zero_grad()

    @torch.no_grad()
    def second_step(self, zero_grad: bool = True) -> None:
        """Restore w exactly, then take the base step with the gradient of the perturbed point."""
        for group in self.param_groups:
            for p in group["params"]:
                if "w" in self.state[p]:
                    p.copy_(self.state[p].pop("w"))
        self.base_optimizer.step()
        if zero_grad:
            self.zero_grad()

    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor:
        """Full SAM step; ``closure`` must zero nothing, compute the loss and call backward()."""
        if closure is None:
            raise ValueError("closure is required: SAM evaluates the loss twice per step")
        loss = closure()
        self.first_step(zero_grad=True)
        with torch.enable_grad():
            closure()
        self.second_step(zero_grad=True)
        return loss

    def state_dict(self) -> dict:
        """The base optimiser's state (SAM keeps no state between steps)."""
        return self.base_optimizer.state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        self.base_optimizer.load_state_dict(state_dict)
        self.param_groups = self.base_optimizer.param_groups
