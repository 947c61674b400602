"""Zero-cost proxies: training-free scores of a freshly initialised NB201 network from one minibatch.

Each proxy runs real forward and backward passes of the built network (tart/spaces/nb201/network.py):
- synflow: sum |w * dR/dw| over conv and linear weights, R = sum of the output of the network with every
  weight replaced by its absolute value, batch norm removed, float64, an all-ones input (no data).
- snip: sum |w * dL/dw|, L = cross-entropy on the minibatch.
- grad_norm: sum over conv and linear layers of ||dL/dW||_2.
- jacob_cov: -sum(log(v + k) + 1 / (v + k)) over the eigenvalues v of the correlation matrix of the per-image
  input gradients of the summed output, k = 1e-5.
- naswot: log |det K| with K[i, j] = number of ReLU units on which images i and j agree (both on or both off).

A network whose cell cuts every path from input to output gives degenerate scores (zero gradients, a singular
matrix); those scores are not finite and rank below every finite score (counted in the report).
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from tart.spaces.nb201.network import build_network

PROXIES = ("synflow", "snip", "grad_norm", "jacob_cov", "naswot")
# CIFAR-10 channel statistics, the usual input normalisation of NB201 training.
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)
_EPS = 1e-5


class MinibatchError(ValueError):
    """The image file cannot provide the requested minibatch."""


def load_minibatch(npz_path: Path, size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """`size` training images drawn without replacement (seeded), decoded and normalised, with their labels."""
    with np.load(npz_path, allow_pickle=False) as data:
        missing = {"train_jpeg", "train_offsets", "train_labels"} - set(data.files)
        if missing:
            raise MinibatchError(f"{npz_path}: expected arrays train_jpeg, train_offsets, train_labels; "
                                 f"missing {sorted(missing)}")  # fmt: skip
        jpeg, offsets, labels = data["train_jpeg"], data["train_offsets"], data["train_labels"]
    n = len(offsets) - 1
    if not 0 < size <= n:
        raise MinibatchError(f"{npz_path}: minibatch of {size} images requested, the file holds {n}")
    picks = np.random.default_rng(seed).choice(n, size, replace=False)
    images = []
    for i in picks:
        image = np.asarray(Image.open(io.BytesIO(jpeg[offsets[i] : offsets[i + 1]].tobytes())).convert("RGB"))
        if image.shape != (32, 32, 3):
            raise MinibatchError(f"{npz_path}: training image {i} has shape {image.shape}, expected (32, 32, 3)")
        images.append(image)
    x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255.0
    x = (x - torch.tensor(CIFAR_MEAN).view(1, 3, 1, 1)) / torch.tensor(CIFAR_STD).view(1, 3, 1, 1)
    return x.contiguous(), torch.from_numpy(labels[picks].astype(np.int64))


def fresh_network(arch: str, seed: int) -> nn.Module:
    """The NB201 network of `arch`, initialised from `seed`, in training mode (batch statistics)."""
    torch.manual_seed(seed)
    return build_network(arch, device="cpu").train()


def _weighted_layers(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def synflow(arch: str, seed: int) -> float:
    net = fresh_network(arch, seed)
    for child in list(net.modules()):
        for attr, sub in list(child.named_children()):
            if isinstance(sub, nn.BatchNorm2d):  # batch norm of a constant input would cancel the signal
                setattr(child, attr, nn.Identity())
    net = net.double()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net(torch.ones(1, 3, 32, 32, dtype=torch.float64)).sum().backward()
    return _sum_over_weights(net, lambda w, g: (w * g).abs().sum())


def _sum_over_weights(net: nn.Module, term: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> float:
    """sum of term(weight, its gradient) over conv and linear layers that received a gradient."""
    total = 0.0
    for layer in _weighted_layers(net):
        if layer.weight.grad is not None:
            total += float(term(layer.weight.detach(), layer.weight.grad))
    return total


def loss_gradient_scores(arch: str, seed: int, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """snip and grad_norm share one cross-entropy backward pass."""
    net = fresh_network(arch, seed)
    nn.functional.cross_entropy(net(x), y).backward()
    return {
        "snip": _sum_over_weights(net, lambda w, g: (w * g).abs().sum()),
        "grad_norm": _sum_over_weights(net, lambda w, g: g.norm()),
    }


def relu_agreement_and_input_gradient(net: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
    """K[i, j] = ReLU units on which images i and j agree, and the input gradient of the summed output
    (None when the output does not depend on the input), from one forward and one backward pass."""
    n = len(x)
    kernel = torch.zeros(n, n, dtype=torch.float64)

    def record(_module, _inputs, output):
        codes = (output.detach() > 0).reshape(n, -1).double()
        kernel.add_(codes @ codes.T + (1 - codes) @ (1 - codes).T)

    hooks = [m.register_forward_hook(record) for m in net.modules() if isinstance(m, nn.ReLU)]
    try:
        x = x.clone().requires_grad_(True)
        net(x).sum().backward()
    finally:
        for hook in hooks:
            hook.remove()
    return kernel, x.grad


def activation_scores(arch: str, seed: int, x: torch.Tensor) -> dict[str, float]:
    """jacob_cov and naswot share one forward pass and its input gradient."""
    kernel, grad = relu_agreement_and_input_gradient(fresh_network(arch, seed), x)
    jacob = -math.inf if grad is None else jacobian_score(grad.reshape(len(x), -1))
    return {"jacob_cov": jacob, "naswot": float(torch.linalg.slogdet(kernel)[1])}


def jacobian_score(jacobian: torch.Tensor) -> float:
    """Mellor et al.'s score of per-image input gradients (rows): high when the images are told apart."""
    centred = jacobian.double() - jacobian.double().mean(dim=1, keepdim=True)
    norms = centred.norm(dim=1)
    if bool((norms == 0).any()):  # a constant row has no correlation: degenerate network
        return -math.inf
    corr = (centred / norms[:, None]) @ (centred / norms[:, None]).T
    eigenvalues = torch.linalg.eigvalsh(corr).clamp(min=0)
    return float(-(torch.log(eigenvalues + _EPS) + 1.0 / (eigenvalues + _EPS)).sum())


def proxy_scores(arch: str, seed: int, x: torch.Tensor, y: torch.Tensor) -> dict[str, float]:
    """All five proxies of one architecture, non-finite values as -inf, and the seconds it took."""
    start = time.perf_counter()
    scores = {"synflow": synflow(arch, seed), **loss_gradient_scores(arch, seed, x, y),
              **activation_scores(arch, seed, x)}  # fmt: skip
    scores = {name: (value if math.isfinite(value) else -math.inf) for name, value in scores.items()}
    return {**{name: scores[name] for name in PROXIES}, "seconds": time.perf_counter() - start}
