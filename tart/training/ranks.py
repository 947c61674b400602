"""Training in several processes under `torchrun` (DistributedDataParallel: gloo on the CPU, NCCL on GPUs).

torchrun starts one process per rank and tells each its rank and the world size in the environment. Every rank
builds the same shuffled batches from the same seed and takes every world-th batch, so the ranks together cover
the epoch once; DDP averages the gradients, so the weights stay identical on every rank and each rank's validation
gives the same tau. Only rank 0 writes files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int = 0
    world: int = 1

    @property
    def writes(self) -> bool:
        """Whether this process writes outputs (rank 0 only)."""
        return self.rank == 0

    def local_device(self, device: torch.device) -> torch.device:
        """On CUDA, rank r of a node uses GPU LOCAL_RANK; on the CPU every rank shares the CPU."""
        if device.type != "cuda" or self.world == 1:
            return device
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", self.rank)))

    def shard(self, batches: list) -> list:
        """This rank's share of an epoch's batches: every world-th one. The epoch is cut to a multiple of the world
        size (at most world - 1 batches left out, different ones each epoch since the order is shuffled) so that
        every rank takes the same number of steps, which DDP needs."""
        usable = len(batches) // self.world * self.world
        return batches[self.rank : usable : self.world]

    def steps_per_epoch(self, n_batches: int) -> int:
        return n_batches // self.world


def ranks_from_env() -> Ranks:
    """The rank and world size torchrun sets (RANK, WORLD_SIZE); one process without them."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if not 0 <= rank < world:
        raise ValueError(f"RANK={rank} with WORLD_SIZE={world}: expected 0 <= RANK < WORLD_SIZE")
    return Ranks(rank, world)


@contextmanager
def process_group(ranks: Ranks, device: torch.device) -> Iterator[None]:
    """The process group of a torchrun launch (nothing for one process), torn down at the end."""
    if ranks.world == 1 or dist.is_initialized():
        yield
        return
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        yield
    finally:
        dist.destroy_process_group()


def wrap(model: torch.nn.Module, ranks: Ranks, device: torch.device) -> torch.nn.Module:
    """`model` as the training step should call it: DDP across ranks, the model itself for one process."""
    if ranks.world == 1:
        return model
    ids = [device.index] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
