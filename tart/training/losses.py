"""Ranking losses added to the regression loss: both reward ordering pairs of nets like their labels."""

from __future__ import annotations

import torch


def pairwise_rank_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Logistic loss on every ordered pair of the batch: penalises predictions ranked against the targets."""
    dp = pred[:, None] - pred[None, :]  # (B, B)
    sign = torch.sign(target[:, None] - target[None, :])  # (B, B)
    mask = sign != 0
    if not mask.any():
        return pred.new_zeros(())
    return torch.nn.functional.softplus(-sign[mask] * dp[mask]).mean()


def pairwise_difference_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean |(p_i - p_j) - (y_i - y_j)| over all pairs: the predicted gaps should match the true gaps."""
    return ((pred[:, None] - pred[None, :]) - (target[:, None] - target[None, :])).abs().mean()
