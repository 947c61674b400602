"""Our own DeepNets-1M-style generator: seeded, sharded, resumable, parallel.

Sampling (per net, following the DeepNets-1M paper's description): the number of cells; steps per cell (fewer for
deep nets); a normal and a reduction genotype, the reduction cell with or without trainable ops; optional dropped
concat edges; `none` ops only when a cell has more than one step; stem kernel, stem style, channel multiplier,
1x1 pre-processing, head, normalisation (none only for shallow nets), 1-2 FC layers. A sample is rejected (and
the next one drawn) when it has no learnable op, a cell with more than one `cse` or more than one dense 5x5/7x7
conv, more parameters than the limit, or an output that `none` ops cut off.

Net `i` of a split draws from its own random stream, seeded by (seed, i): a net does not depend on the shard size,
on the number of workers or on which shards already exist, so an interrupted run resumes without duplicates or
gaps. A shard is one HDF5 + meta pair in the published layout, written to a temporary name and renamed when
complete; `nodes` rows are in `adj` order (unlike the original generator's files).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
from tqdm import tqdm

from tart.core.files import write_json
from tart.core.parallel import parallel_map
from tart.graphs.graph import ArchGraph
from tart.io.deepnets1m import DeepNetsFile, FormatError, Writer, distance_matrix
from tart.spaces.darts.fast import count_params_fast, fast_graph
from tart.spaces.darts.network import Genotype, NetArgs, NetArgsError

TRAINABLE = ("sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5", "conv_1x1", "conv_7x1_1x7",
             "conv_3x3", "conv_5x5", "conv_7x7")  # fmt: skip
PARAMETER_FREE = ("max_pool_3x3", "avg_pool_3x3", "skip_connect")
DENSE_LARGE = ("conv_5x5", "conv_7x7")
LEARNABLE = (*TRAINABLE, "msa", "cse")


class GeneratorConfigError(ValueError):
    """Impossible generator ranges."""


@dataclass(frozen=True)
class GeneratorConfig:
    """Ranges of one split; the variants below change them as the DeepNets-1M paper describes."""

    min_cells: int = 4
    max_cells: int = 18
    deep_threshold: tuple[int, int] = (7, 10)  # a net with more cells than a threshold drawn here is "deep"
    min_steps: int = 1
    max_steps: int = 4
    max_steps_deep: int = 2
    channels: int = 32
    max_params: int = 10_000_000
    norm_free: bool = False  # bnfree: no normalisation anywhere
    allow_msa: bool = True

    def check(self) -> GeneratorConfig:
        problems = []
        if not 1 <= self.min_cells <= self.max_cells:
            problems.append(f"cells {self.min_cells}..{self.max_cells}: need 1 <= min_cells <= max_cells")
        if not 1 <= self.min_steps <= min(self.max_steps, self.max_steps_deep):
            problems.append(f"steps {self.min_steps}..{self.max_steps} (deep nets ..{self.max_steps_deep}): need "
                            "1 <= min_steps <= max_steps and min_steps <= max_steps_deep")  # fmt: skip
        if self.deep_threshold[0] > self.deep_threshold[1]:
            problems.append(f"deep_threshold {self.deep_threshold}: low end above high end")
        if self.channels < 2 or self.channels % 2:
            problems.append(f"channels {self.channels}: need an even number >= 2 (factorized reductions halve it)")
        if self.max_params < 1000:
            problems.append(f"max_params {self.max_params}: no network fits")
        if problems:
            raise GeneratorConfigError("impossible generator settings: " + "; ".join(problems))
        return self


VARIANTS: dict[str, GeneratorConfig] = {
    "default": GeneratorConfig(),
    "wide": GeneratorConfig(channels=64),
    "deep": GeneratorConfig(min_cells=10, max_cells=36, deep_threshold=(18, 18), max_params=100_000_000),
    "dense": GeneratorConfig(min_steps=2, max_steps=10, max_steps_deep=6, max_params=100_000_000),
    "bnfree": GeneratorConfig(norm_free=True),
}


def _choice(rng: np.random.Generator, options: tuple | list):
    return options[int(rng.integers(len(options)))]


def sample_genotype(rng: np.random.Generator, steps: int, only_pool: bool, drop_concat: bool, allow_none: bool,
                    allow_msa: bool) -> Genotype:  # fmt: skip
    """Two cells with `steps` nodes each; node k sums two ops on two different earlier states (0, 1 = the cell
    inputs, 2.. = earlier nodes), as in DARTS."""
    normal_ops = (*TRAINABLE, *PARAMETER_FREE, "cse", *(("msa",) if allow_msa else ()), *(("none",) * allow_none))
    reduce_ops = (*PARAMETER_FREE, *(("none",) * allow_none)) if only_pool else normal_ops
    cells = []
    for ops in (normal_ops, reduce_ops):
        edges = []
        for k in range(steps):
            for source in rng.choice(2 + k, size=2, replace=False):
                edges.append((_choice(rng, ops), int(source)))
        cells.append(tuple(edges))
    states = range(2, 2 + steps)
    if drop_concat:
        # Both cells share the concat list, so only a state that later nodes of *both* cells read can be left out
        # (in a cell where nothing read it, its ops would be dead).
        read_in_both = set.intersection(*({i for _, i in cell} for cell in cells))
        concat = tuple(s for s in states if s not in read_in_both)
    else:
        concat = tuple(states)
    return Genotype(cells[0], concat, cells[1], concat)


def rejection_reason(args: NetArgs) -> str | None:
    """Why the generator refuses a sample, or None."""
    ops = args.genotype.ops()
    if not any(op in LEARNABLE for op in ops):
        return "no learnable op"
    for cell in (args.genotype.normal, args.genotype.reduce):
        cell_ops = [op for op, _ in cell]
        if cell_ops.count("cse") > 1:
            return "more than one cse in a cell"
        if sum(op in DENSE_LARGE for op in cell_ops) > 1:
            return "more than one dense 5x5/7x7 conv in a cell"
    return None


def sample_net_args(rng: np.random.Generator, config: GeneratorConfig) -> NetArgs:
    """One candidate (not yet checked against the rejection rules)."""
    n_cells = int(rng.integers(config.min_cells, config.max_cells + 1))
    deep = n_cells > int(rng.integers(config.deep_threshold[0], config.deep_threshold[1] + 1))
    steps = int(rng.integers(config.min_steps, (config.max_steps_deep if deep else config.max_steps) + 1))
    genotype = sample_genotype(rng, steps, only_pool=bool(rng.random() < 0.5),
                               drop_concat=steps > 1 and bool(rng.random() < 0.5), allow_none=steps > 1,
                               allow_msa=config.allow_msa)  # fmt: skip
    vit = "msa" in genotype.ops()
    c_mult = int(_choice(rng, (1, 2)))
    preproc = steps > 1 or c_mult > 1 or not vit or bool(rng.random() < 0.2)
    glob_avg = vit or deep or bool(rng.random() < 0.9)
    shallow = n_cells <= config.min_cells + 1 and steps <= config.max_steps_deep
    norm = None if config.norm_free or (shallow and rng.random() < 0.5) else "bnorm"
    stem_type = int(_choice(rng, (0, 1)))
    return NetArgs(
        genotype, n_cells, C=config.channels, C_mult=c_mult, ks=int(_choice(rng, (3, 5, 7))), stem_type=stem_type,
        stem_pool=stem_type == 0 and bool(rng.random() < 0.5), norm=norm, preproc=preproc, glob_avg=glob_avg,
        fc_layers=int(rng.integers(1, 3)), fc_dim=256,
    )  # fmt: skip


@dataclass
class GeneratedNet:
    index: int
    args: NetArgs
    graph: ArchGraph
    params: dict[str, int]
    attempts: int


def generate_net(seed: int, index: int, config: GeneratorConfig, max_attempts: int = 10_000) -> GeneratedNet:
    """Net `index` of the stream `seed`: the first accepted sample of its own random stream."""
    rng = np.random.default_rng([seed, index])
    for attempt in range(1, max_attempts + 1):
        args = sample_net_args(rng, config)
        if rejection_reason(args):
            continue
        params = {"cifar10": count_params_fast(args), "imagenet": count_params_fast(args, imagenet=True)}
        if max(params.values()) > config.max_params:
            continue
        try:
            graph = fast_graph(args)
        except NetArgsError:  # the output is cut off by `none` ops
            continue
        return GeneratedNet(index, args, graph, params, attempt)
    raise GeneratorConfigError(f"net {index}: no acceptable sample in {max_attempts} attempts; widen the ranges")


def net_record(net: GeneratedNet) -> dict:
    return {**net.args.to_record(), "C": net.args.C, "num_params": net.params}


@dataclass(frozen=True)
class ShardJob:
    out_dir: Path
    split: str
    seed: int
    shard: int
    start: int
    stop: int
    config: GeneratorConfig

    def paths(self) -> tuple[Path, Path]:
        stem = f"deepnets1m_{self.split}_{self.shard:05d}"
        return self.out_dir / f"{stem}.hdf5", self.out_dir / f"{stem}_meta.json"


def write_shard(job: ShardJob) -> dict:
    """Generate nets start..stop-1 into one shard (complete or absent); returns counts for the progress report."""
    h5, meta = job.paths()
    attempts = 0
    with Writer(h5, meta, job.split) as writer:
        for index in range(job.start, job.stop):
            net = generate_net(job.seed, index, job.config)
            attempts += net.attempts
            adj = distance_matrix(net.graph.num_nodes, net.graph.edge_array())
            writer.add(net.graph, net_record(net), adj)
    return {"shard": job.shard, "nets": job.stop - job.start, "attempts": attempts}


def shard_is_complete(job: ShardJob) -> bool:
    """A shard left by an earlier run counts when it is readable and holds exactly its nets (else it is redone)."""
    h5, meta = job.paths()
    if not (h5.is_file() and meta.is_file()):
        return False
    try:
        with DeepNetsFile(h5, meta, job.split) as f:
            return len(f) == job.stop - job.start
    except FormatError:
        return False


def _claim_directory(out_dir: Path, split: str, run: dict) -> None:
    """Resuming is only safe into a directory written by the same settings; refuse anything else."""
    manifest = out_dir / f"deepnets1m_{split}_generation.json"
    if manifest.is_file():
        earlier = json.loads(manifest.read_text())["run"]
        if earlier != run:
            changed = sorted(k for k in run if earlier.get(k) != run[k])
            raise GeneratorConfigError(
                f"{out_dir} holds {split!r} shards generated with other settings ({', '.join(changed)} differ: "
                f"{ {k: earlier.get(k) for k in changed} } vs { {k: run[k] for k in changed} }); "
                "use another directory or delete it"
            )
    else:
        write_json({"run": run}, manifest)


def plan_shards(out_dir: Path, split: str, count: int, seed: int, shard_size: int,
                config: GeneratorConfig) -> list[ShardJob]:  # fmt: skip
    if count < 1 or shard_size < 1:
        raise GeneratorConfigError(f"count {count} and shard_size {shard_size} must both be >= 1")
    starts = range(0, count, shard_size)
    return [ShardJob(out_dir, split, seed, k, s, min(s + shard_size, count), config) for k, s in enumerate(starts)]


def generate(out_dir: Path, split: str, count: int, *, seed: int = 0, variant: str = "default",
             shard_size: int = 10_000, workers: int | None = None, channels: int | None = None) -> dict:  # fmt: skip
    """Generate `count` nets into shards under `out_dir`, skipping shards that are already complete."""
    if variant not in VARIANTS:
        raise GeneratorConfigError(f"variant {variant!r}: expected one of {sorted(VARIANTS)}")
    config = VARIANTS[variant] if channels is None else replace(VARIANTS[variant], channels=channels)
    config.check()
    out_dir.mkdir(parents=True, exist_ok=True)
    run = {"split": split, "variant": variant, "seed": seed, "count": count, "shard_size": shard_size,
           "config": json.loads(json.dumps(asdict(config)))}  # fmt: skip
    _claim_directory(out_dir, split, run)
    jobs = plan_shards(out_dir, split, count, seed, shard_size, config)
    todo = [job for job in jobs if not shard_is_complete(job)]
    summary = {"run": run, "shards": len(jobs), "shards_resumed": len(jobs) - len(todo), "attempts": 0}
    with tqdm(total=sum(j.stop - j.start for j in todo), desc=f"generate {split}", unit="net") as bar:
        for result in parallel_map(write_shard, todo, workers):
            summary["attempts"] += result["attempts"]
            bar.update(result["nets"])
    write_json(summary, out_dir / f"deepnets1m_{split}_generation.json")
    return summary


def shard_paths(out_dir: Path, split: str) -> list[tuple[Path, Path]]:
    h5s = sorted(out_dir.glob(f"deepnets1m_{split}_[0-9][0-9][0-9][0-9][0-9].hdf5"))
    return [(h5, h5.with_name(h5.stem + "_meta.json")) for h5 in h5s]


def merge_shards(out_dir: Path, split: str, h5_path: Path, meta_path: Path, delete_shards: bool = False) -> int:
    """Concatenate the shards of a split into one file pair in the published layout (name ids re-mapped).

    With `delete_shards`, each shard is deleted once its nets are copied, so the disk holds about one copy of the
    nets rather than two (a million generated nets fill tens of GB). A merge that fails then has lost the shards copied
    so far and writes no merged file; rerunning `generate` with the same settings rewrites exactly the deleted shards
    (it is seeded and resumes), and the merge can run again."""
    shards = shard_paths(out_dir, split)
    if not shards:
        raise FormatError(f"{out_dir}: no shards deepnets1m_{split}_NNNNN.hdf5 to merge")
    with Writer(h5_path, meta_path, split) as writer:
        for h5, meta in shards:
            with DeepNetsFile(h5, meta, split) as source:
                remap = writer.name_ids([source.names[str(k)] for k in range(len(source.names))])
                for k in range(len(source)):
                    net = source.h5[split][str(k)]
                    nodes = net["nodes"][()]
                    nodes[:, 2] = remap[nodes[:, 2]]
                    writer.add_stored(net["adj"][()], nodes, source.nets[k])
            if delete_shards:
                h5.unlink()
                meta.unlink()
    return len(writer.nets)
