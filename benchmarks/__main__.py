"""`python -m benchmarks NAME [ARGS]`: run one benchmark; it prints its figures and writes its declared outputs,
reports/benchmarks/<output>.json and reports/benchmarks/<output>.md (never a timed test, never another file).
`python -m benchmarks render` rewrites every .md from the JSON already there, without rerunning anything.
Settings come from params.yaml (or $TART_PARAMS), like every stage."""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import BENCHMARK_DIR, read_result, write_result
from tart.core.params import Params, load_params


@dataclass(frozen=True)
class Benchmark:
    output: str  # reports/benchmarks/<output>.json and .md
    usage: str
    run: Callable[[Params, list[str]], dict]
    markdown: str  # "module:function" rendering the JSON as markdown
    figures: tuple[str, ...] = ()  # further files it writes under reports/benchmarks/


def _load(ref: str) -> Callable:
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def _ints(argv: list[str], k: int, default: str) -> list[int]:
    return [int(s) for s in (argv[k] if len(argv) > k else default).split(",")]


def _reference_dir(p: Params) -> Path:
    mirror = os.environ.get("TART_DATA_MIRROR") or p.fetch.mirror or "../shared/data"
    return Path(mirror) / "deepnets1m_format_reference"


def _build(p: Params, argv: list[str]) -> dict:
    return _load("benchmarks.build:build_timing")(p.paths.raw, p.build.workers)


def _token_bound(p: Params, argv: list[str]) -> dict:
    return _load("benchmarks.token_bound:token_bound")(
        p.paths.tokens, p.paths.labels, p.train.target, p.evaluate.test_label, p.paths.graphs
    )


def _scale(p: Params, argv: list[str]) -> dict:
    nets, unique = (int(argv[0]) if argv else 1_000_000), (int(argv[1]) if len(argv) > 1 else 20_000)
    return _load("benchmarks.scale:scale_benchmark")(nets, unique)


def _darts_reference(p: Params, argv: list[str]) -> dict:
    return _load("tart.spaces.darts.reference_match:explain_reference_files")(_reference_dir(p))


def _generator_stats(p: Params, argv: list[str]) -> dict:
    count = int(argv[0]) if argv else 2000
    figure = BENCHMARK_DIR / "generator_vs_reference.png"
    return _load("benchmarks.generator_stats:generator_stats")(_reference_dir(p), count, 0, figure)


def _tokenization(p: Params, argv: list[str]) -> dict:
    return _load("benchmarks.tokenization:tokenization_benchmark")(p, int(argv[0]) if argv else 781)


def _throughput(p: Params, argv: list[str]) -> dict:
    from tart.training.loop import pick_device

    device = pick_device(argv[0] if argv else "auto")
    gpu = device.type == "cuda"
    precision = argv[1] if len(argv) > 1 else ("bf16" if gpu else "fp32")
    batch = int(argv[2]) if len(argv) > 2 else (1024 if gpu else p.train.batch_size)
    steps = int(argv[3]) if len(argv) > 3 else (100 if gpu else 20)
    result = _load("benchmarks.throughput:throughput_benchmark")(p, device.type, precision, batch, steps)
    return {**result, "device_type": device.type}


def _pretraining(p: Params, argv: list[str]) -> dict:
    from tart.training.pretrain import PretrainConfig

    cfg = PretrainConfig(**{k: int(v) for k, v in zip(("nets", "epochs"), argv[:2])})
    return _load("benchmarks.pretraining:pretraining_benchmark")(p, cfg, _ints(argv, 2, "100,781"), [0, 1, 2])


def _seeded(ref: str, seeds: str, sizes: list[int] | None = None) -> Callable[[Params, list[str]], dict]:
    def run(p: Params, argv: list[str]) -> dict:
        args = (p, _ints(argv, 0, seeds)) if sizes is None else (p, sizes, _ints(argv, 0, seeds))
        return _load(ref)(*args)

    return run


def _learning_curve(p: Params, argv: list[str]) -> dict:
    return _load("benchmarks.learning_curve:learning_curve_benchmark")(
        p, _ints(argv, 0, "3125,6250"), _ints(argv, 1, "0")
    )


def _cell_workers(p: Params, argv: list[str]) -> dict:
    return _load("benchmarks.cell_workers:cell_workers_benchmark")(p, *(int(a) for a in argv))


def _gpu_train(p: Params, argv: list[str]) -> dict:
    module = "benchmarks.gpu_check"
    return _load(f"{module}:gpu_train_benchmark")(p, _load(f"{module}:_size")(argv))


def _gpu_narformer(p: Params, argv: list[str]) -> dict:
    module = "benchmarks.gpu_check"
    return _load(f"{module}:gpu_narformer_benchmark")(p, _load(f"{module}:_size")(argv))


def _full_repro(p: Params, argv: list[str]) -> dict:
    params = None
    if "--params" in argv:
        k = argv.index("--params")
        params, argv = Path(argv[k + 1]), argv[:k] + argv[k + 2 :]
    return _load("benchmarks.full_repro:full_repro")(argv or ["HEAD"], Path("."), params)


def _dask_scaling(p: Params, argv: list[str]) -> dict:
    module = "benchmarks.dask_scaling"
    return _load(f"{module}:dask_scaling_benchmark")(_load(f"{module}:parse_runs")(argv[0] if argv else
                                                                                   "1000000x1,1000000x2"))


def _rebuild_floor(p: Params, argv: list[str]) -> dict:
    return _load("benchmarks.rebuild_floor:rebuild_floor")(p, int(argv[0]) if argv else 3)


def _distill(p: Params, argv: list[str]) -> dict:
    unlabelled = [None if a == "all" else int(a) for a in (argv[3] if len(argv) > 3 else "all").split(",")]
    teachers = {"teachers": tuple(argv[4].split(","))} if len(argv) > 4 else {}  # else distill's DEFAULT_TEACHER
    # "-" is the taught recipe unchanged, any other name a STUDENT_VARIANTS change of it
    variants = {"variants": tuple(None if v == "-" else v for v in argv[5].split(","))} if len(argv) > 5 else {}
    return _load("benchmarks.distill:distill_benchmark")(
        p, _ints(argv, 0, "781,1563"), _ints(argv, 1, "0"), _ints(argv, 2, "4,8"), unlabelled,
        previous=BENCHMARK_DIR / "distill.json", **teachers, **variants,
    )


def _gp_teacher(p: Params, argv: list[str]) -> dict:
    student_seeds = _ints(argv, 1, "") if len(argv) > 1 and argv[1] != "-" else []
    return _load("benchmarks.gp_teacher:gp_teacher_benchmark")(
        p, _ints(argv, 0, "0,1,2,3,4"), student_seeds, previous=BENCHMARK_DIR / "gp_teacher.json"
    )


def _student_rows(p: Params, argv: list[str]) -> dict:
    return _load("benchmarks.student_rows:student_rows_benchmark")(p)


def _screen(p: Params, argv: list[str]) -> dict:
    return _load("benchmarks.screen:screen_benchmark")(p, int(argv[0]) if argv else p.build.workers)


BENCHMARKS: dict[str, Benchmark] = {
    "build": Benchmark("build_nb201", "build  # the NB201 -> DeepNets-1M build of all 15,625 nets", _build,
                       "benchmarks.build:build_markdown"),
    "token-bound": Benchmark("token_bound", "token-bound  # distinct token sequences, oracle tau", _token_bound,
                             "benchmarks.token_bound:token_bound_markdown"),
    "scale": Benchmark("scale", "scale [NETS [UNIQUE]]  # generation rate; extract + tokenize 1M graphs", _scale,
                       "benchmarks.scale:scale_markdown"),
    "darts-reference": Benchmark("darts_reference", "darts-reference  # rebuild the reference files' nets",
                                 _darts_reference, "tart.spaces.darts.reference_match:reference_markdown"),
    "generator-stats": Benchmark("generator_stats", "generator-stats [NETS]  # our generator vs the reference files",
                                 _generator_stats, "benchmarks.generator_stats:stats_markdown",
                                 ("generator_vs_reference.png",)),
    "tokenization": Benchmark("tokenization", "tokenization [N_TRAIN]  # TART tokenization variants (781 nets)",
                              _tokenization, "benchmarks.tokenization:tokenization_markdown"),
    "throughput": Benchmark("throughput_cpu", "throughput [DEVICE [PRECISION [BATCH [STEPS]]]]  # graphs/s, peak",
                            _throughput, "benchmarks.throughput:throughput_markdown"),
    "pretraining": Benchmark("pretraining", "pretraining [NETS [EPOCHS [SIZES]]]  # masked-node pretraining",
                             _pretraining, "benchmarks.pretraining:pretraining_markdown"),
    "gbm-grid": Benchmark("gbm_grid", "gbm-grid [SEEDS]  # how gbm_canonical's settings were picked (0,1)",
                          _seeded("benchmarks.gbm_grid:gbm_grid_benchmark", "0,1"),
                          "benchmarks.gbm_grid:gbm_grid_markdown"),
    "teacher-variants": Benchmark("teacher_variants", "teacher-variants [SEEDS]  # the distillation teacher: bagged, "
                                  "Huber, more trees (0,1,2,3,4)",
                                  _seeded("benchmarks.teacher_variants:teacher_variants_benchmark", "0,1,2,3,4"),
                                  "benchmarks.teacher_variants:teacher_variants_markdown"),
    "rank-objectives": Benchmark("rank_objectives", "rank-objectives [SEEDS]  # feature models fit with LightGBM "
                                 "ranking objectives (0,1,2,3,4)",
                                 _seeded("benchmarks.rank_objectives:rank_objectives_benchmark", "0,1,2,3,4"),
                                 "benchmarks.rank_objectives:rank_objectives_markdown"),
    "gp-teacher": Benchmark("gp_teacher", "gp-teacher [SEEDS [STUDENT_SEEDS]]  # Gaussian process on cell features: "
                            "feature model, teacher (0,1,2,3,4; no students)", _gp_teacher,
                            "benchmarks.gp_teacher:gp_teacher_markdown"),
    "student-rows": Benchmark("student_rows", "student-rows  # the table's TART rows from gp-teacher's students' fits",
                              _student_rows, "benchmarks.student_rows:student_rows_markdown"),
    "label-mix": Benchmark("label_mix", "label-mix [SEEDS]  # TART fit to a CIFAR-10/CIFAR-100 label mix (0,1,2)",
                           _seeded("benchmarks.label_mix:label_mix_benchmark", "0,1,2", [781, 1563]),
                           "benchmarks.label_mix:label_mix_markdown"),
    "canonical-order": Benchmark("canonical_order", "canonical-order [SEEDS]  # canonical vs file node order",
                                 _seeded("benchmarks.canonical_order:canonical_order_benchmark", "0,1,2",
                                         [781, 1563]),
                                 "benchmarks.canonical_order:canonical_order_markdown"),
    "function-input": Benchmark("function_input", "function-input [SEEDS]  # TART on function-class representatives",
                                _seeded("benchmarks.function_input:function_input_benchmark", "0,1,2",
                                        [781, 1563]),
                                "benchmarks.function_input:function_input_markdown"),
    "distill": Benchmark("distill", "distill [SIZES [SEEDS [EPOCHS [UNLABELLED [TEACHERS [VARIANTS]]]]]]  # TART "
                         "taught on unlabelled nets (781,1563; 0; 4,8; all; gbm_canonical; -)", _distill,
                         "benchmarks.distill:distill_markdown"),
    "learning-curve": Benchmark("learning_curve", "learning-curve [SIZES [SEEDS]]  # beyond 10% (3125,6250; 0)",
                                _learning_curve, "benchmarks.learning_curve:learning_curve_markdown"),
    "cell-workers": Benchmark("cell_workers", "cell-workers [FITS [EPOCHS]]  # cell-model fits side by side vs serial",
                              _cell_workers, "benchmarks.cell_workers:cell_workers_markdown"),
    "screen": Benchmark("screen", "screen [WORKERS]  # `tart screen` over all 15,625 NB201 nets", _screen,
                        "benchmarks.screen:screen_markdown"),
    "full-repro": Benchmark("full_repro", "full-repro [REV ...] [--params FILE]  # dvc repro, empty cache; resumes",
                            _full_repro, "benchmarks.full_repro:full_repro_markdown"),
    "dask-scaling": Benchmark("dask_scaling", "dask-scaling [NETSxWORKERS,...]  # generated nets end to end on Dask",
                              _dask_scaling, "benchmarks.dask_scaling:dask_scaling_markdown"),
    "rebuild-floor": Benchmark("rebuild_floor", "rebuild-floor [EPOCHS]  # optimiser steps x seconds per step",
                               _rebuild_floor, "benchmarks.rebuild_floor:rebuild_floor_markdown"),
    "gpu-train": Benchmark("gpu_train", "gpu-train [full|dry]  # TART at d_model 256, 12 layers, bf16: graphs/s",
                           _gpu_train, "benchmarks.gpu_check:gpu_train_markdown"),
    "gpu-narformer": Benchmark("gpu_narformer", "gpu-narformer [full|dry]  # the published NAR-Former recipe, GPU",
                               _gpu_narformer, "benchmarks.gpu_check:gpu_narformer_markdown"),
}  # fmt: skip


def declared_outputs() -> set[str]:
    """Every file name a benchmark may write under reports/benchmarks/ (throughput: one pair per device kind)."""
    names = {f for bench in BENCHMARKS.values() for f in bench.figures}
    for bench in BENCHMARKS.values():
        stems = [f"throughput_{kind}" for kind in ("cpu", "cuda")] if bench.output.startswith("throughput") else [
            bench.output]  # fmt: skip
        names |= {f"{stem}.{suffix}" for stem in stems for suffix in ("json", "md")}
    return names


def output_name(name: str, result: dict) -> str:
    """The throughput benchmark writes one file per device kind; a dry run of a GPU check `<output>_dry` (ignored
    by git: a rehearsal, not a result); every other one a fixed name."""
    if name == "throughput":
        return f"throughput_{result['device_type']}"
    return BENCHMARKS[name].output + ("_dry" if result.get("size") == "dry" else "")


def render_all() -> list[Path]:
    """Rewrite each benchmark's markdown from its JSON (those that have run)."""
    written = []
    for name, bench in BENCHMARKS.items():
        stems = sorted(BENCHMARK_DIR.glob("throughput_*.json")) if name == "throughput" else [
            BENCHMARK_DIR / f"{bench.output}.json"]  # fmt: skip
        for path in stems:
            if path.exists():
                written.append(write_result(path.stem, read_result(path), _load(bench.markdown), quiet=True))
    return written


def usage() -> str:
    lines = [__doc__, "Benchmarks:"] + [f"  python -m benchmarks {b.usage}" for b in BENCHMARKS.values()]
    return "\n".join([*lines, "  python -m benchmarks render  # every .md from its JSON",
                      "  python -m benchmarks NAME --help  # what NAME measures and its arguments"])


def benchmark_help(bench: Benchmark) -> str:
    """The usage line and what the benchmark's module says it measures (its docstring)."""
    module = importlib.import_module(bench.markdown.split(":")[0])
    return f"python -m benchmarks {bench.usage}\n\n{(module.__doc__ or '').strip()}"


def main(argv: list[str]) -> None:
    if argv == ["render"]:
        for path in render_all():
            print(f"wrote {path}")
        return
    if not argv or argv[0] not in BENCHMARKS:
        sys.exit(usage())
    name, bench = argv[0], BENCHMARKS[argv[0]]
    if set(argv[1:]) & {"-h", "--help"}:
        print(benchmark_help(bench))
        return
    result = bench.run(load_params(), argv[1:])
    write_result(output_name(name, result), result, _load(bench.markdown))


if __name__ == "__main__":
    main(sys.argv[1:])
