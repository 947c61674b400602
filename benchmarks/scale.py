"""Scale benchmark: generation rate, and extraction + tokenization of a 1M-graph train file (time, memory).

python -m benchmarks scale [--nets 1000000] [--unique 20000]

The 1M-graph file holds `unique` generated nets, each stored once; nets beyond them are HDF5 hard links to net
`i % unique` (so the file is ~2 GB instead of ~37 GB; every net is still read, validated and tokenized on its
own). Memory is the summed resident set (and proportional set, which counts shared pages once) of the extracting
process tree, sampled every 0.2 s. Extraction and tokenization run in a fresh interpreter, as the stages do.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import h5py

from tart.core.parallel import default_workers
from tart.spaces.darts.generate import generate, merge_shards

ORIGINAL_NETS_PER_SECOND_PER_CORE = 11.0  # the DeepNets-1M generator, as quoted by the issue (CPU, one process)


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree_memory(pid: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) in bytes over `pid` and its descendants."""
    rss = pss = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            for line in Path(f"/proc/{p}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
        except OSError:
            continue
        stack += _children(p)
    return rss, pss


def run_measured(cmd: list[str]) -> dict:
    """Run `cmd`; wall seconds and the peak summed RSS/PSS of its process tree."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd)
    peak = [0, 0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            rss, pss = _tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    done.set()
    sampler.join()
    if code:
        raise RuntimeError(f"{' '.join(cmd)} failed with exit code {code}")
    return {"seconds": round(time.perf_counter() - start, 1), "peak_rss_gb": round(peak[0] / 1e9, 2),
            "peak_pss_gb": round(peak[1] / 1e9, 2)}  # fmt: skip


def generation_rate(tmp: Path, nets: int, workers: int) -> dict:
    start = time.perf_counter()
    summary = generate(tmp / f"gen-{workers}", "train", nets, seed=1, shard_size=max(nets // (4 * workers), 1),
                       workers=workers)  # fmt: skip
    seconds = time.perf_counter() - start
    rate = nets / seconds
    return {"nets": nets, "workers": workers, "seconds": round(seconds, 1), "nets_per_second": round(rate),
            "nets_per_second_per_core": round(rate / workers), "samples_drawn": summary["attempts"]}  # fmt: skip


def repeated_file(unique_dir: Path, count: int, h5_path: Path, meta_path: Path) -> int:
    """Merge the generated shards, then extend the split to `count` nets with hard links to net i % unique."""
    unique = merge_shards(unique_dir, "train", h5_path, meta_path)
    with h5py.File(h5_path, "r+") as f:
        group = f["train"]
        for i in range(unique, count):
            group[str(i)] = group[str(i % unique)]
    meta = json.loads(meta_path.read_text())["train"]
    with open(meta_path, "w") as out:  # streamed: 1M records would not fit json.dumps comfortably
        out.write('{"train": {"nets": [')
        encoded = [json.dumps(net) for net in meta["nets"]]
        for i in range(count):
            out.write(("," if i else "") + encoded[i % unique])
        out.write('], "meta": ' + json.dumps(meta["meta"]) + "}}")
    return unique


def scale_benchmark(nets: int, unique: int, workers: int | None = None) -> dict:
    workers = workers or default_workers()
    with tempfile.TemporaryDirectory(dir=".") as tmp_name:
        tmp = Path(tmp_name)
        rates = [generation_rate(tmp, min(unique, 5000), 1), generation_rate(tmp, unique, workers)]
        h5, meta = tmp / "deepnets1m_train.hdf5", tmp / "deepnets1m_train_meta.json"
        start = time.perf_counter()
        repeated_file(tmp / f"gen-{workers}", nets, h5, meta)
        build_seconds = time.perf_counter() - start
        file_gb = (h5.stat().st_size + meta.stat().st_size) / 1e9
        cmd = [sys.executable, "-m", "benchmarks.scale", str(h5), str(meta), str(tmp), str(workers)]
        measured = run_measured(cmd)
        timings = json.loads((tmp / "timings.json").read_text())
    per_core = rates[0]["nets_per_second_per_core"]
    return {
        "generation": rates,
        "generation_speedup_per_core_vs_original": round(per_core / ORIGINAL_NETS_PER_SECOND_PER_CORE, 1),
        "file": {"nets": nets, "unique_nets": unique, "gb": round(file_gb, 2), "build_seconds": round(build_seconds)},
        "extract_tokenize": {
            **measured,
            **timings,
            "workers": workers,
            "graphs_per_second": round(nets / measured["seconds"]),
        },  # fmt: skip
        "targets": {"seconds_max": 600, "rss_gb_max": 4.0, "generation_per_core_min": 4 * 11},
    }


def scale_markdown(r: dict) -> str:
    one, many = r["generation"]
    et = r["extract_tokenize"]
    return "\n".join([
        "| measure | result | target |",
        "|---|---|---|",
        f"| generation, 1 process | {one['nets_per_second']} nets/s ({r['generation_speedup_per_core_vs_original']}x "
        f"the original generator's ~{ORIGINAL_NETS_PER_SECOND_PER_CORE:.0f} nets/s per core) | >= 44 nets/s per core |",
        f"| generation, {many['workers']} processes | {many['nets_per_second']} nets/s | |",
        f"| {r['file']['nets']:,}-graph train file: extract + tokenize ({et['workers']} processes) | "
        f"{et['seconds']:.0f} s (extract {et['extract_seconds']:.0f} s, tokenize {et['tokenize_seconds']:.0f} s), "
        f"{et['graphs_per_second']:,} graphs/s | <= 600 s |",
        "| peak memory of that (summed RSS / PSS of the process tree) | "
        f"{et['peak_rss_gb']} GB / {et['peak_pss_gb']} GB | <= 4 GB |",
    ])  # fmt: skip


def _extract_and_tokenize(h5: Path, meta: Path, tmp: Path, workers: int) -> None:
    from tart.io.extract import extract
    from tart.tokens.tokenize import tokenize

    start = time.perf_counter()
    extract(h5, meta, "train", tmp / "graphs", "report", 5000, workers=workers)
    middle = time.perf_counter()
    tokenize(tmp / "graphs", tmp / "tokens", workers=workers)
    end = time.perf_counter()
    timings = {"extract_seconds": round(middle - start, 1), "tokenize_seconds": round(end - middle, 1)}
    (tmp / "timings.json").write_text(json.dumps(timings))


if __name__ == "__main__":
    _extract_and_tokenize(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), int(sys.argv[4]))
