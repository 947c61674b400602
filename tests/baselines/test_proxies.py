import io
import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from helpers import settings
from PIL import Image
from torch import nn

from tart.baselines.proxies import proxies_from_files, sample_nets
from tart.baselines.zero_cost import (
    PROXIES,
    MinibatchError,
    fresh_network,
    jacobian_score,
    load_minibatch,
    proxy_scores,
    relu_agreement_and_input_gradient,
    synflow,
)
from tart.core import files, schemas
from tart.evaluation.report import proxies_markdown
from tart.spaces.nb201.network import arch_string

CONV3 = arch_string(("nor_conv_3x3",) * 6)
CUT = arch_string(("nor_conv_3x3", "none", "none", "none", "none", "none"))  # node 3 receives nothing


def write_images(path, n=12, seed=0):
    """A tiny file in the layout of the shared CIFAR-10 JPEG subset."""
    rng = np.random.default_rng(seed)
    blobs = []
    for _ in range(n):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(buf, format="JPEG")
        blobs.append(np.frombuffer(buf.getvalue(), np.uint8))
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64)
    np.savez(
        path, train_jpeg=np.concatenate(blobs), train_offsets=offsets, train_labels=np.arange(n, dtype=np.uint8) % 10
    )
    return path


def test_minibatch_is_seeded_normalised_and_checked(tmp_path):
    path = write_images(tmp_path / "img.npz")
    x, y = load_minibatch(path, 8, seed=1)
    assert x.shape == (8, 3, 32, 32) and y.shape == (8,) and y.dtype == torch.int64
    assert abs(float(x.mean())) < 1.0  # normalised by the CIFAR-10 channel statistics
    x2, y2 = load_minibatch(path, 8, seed=1)
    assert torch.equal(x, x2) and torch.equal(y, y2)
    assert not torch.equal(load_minibatch(path, 8, seed=2)[0], x)
    with pytest.raises(MinibatchError, match="13 images requested, the file holds 12"):
        load_minibatch(path, 13, seed=0)
    np.savez(tmp_path / "bad.npz", train_jpeg=np.zeros(3, np.uint8))
    with pytest.raises(MinibatchError, match=r"bad\.npz.*missing \['train_labels', 'train_offsets'\]"):
        load_minibatch(tmp_path / "bad.npz", 2, seed=0)


def test_relu_agreement_kernel_matches_an_independent_count():
    torch.manual_seed(0)
    x = torch.randn(3, 3, 32, 32)
    net = fresh_network(CONV3, seed=0)
    kernel, grad = relu_agreement_and_input_gradient(net, x)
    codes = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: codes.append((out > 0).reshape(3, -1)))
             for m in net.modules() if isinstance(m, nn.ReLU)]  # fmt: skip
    net(x)
    for hook in hooks:
        hook.remove()
    on = torch.cat(codes, dim=1)
    for i in range(3):
        for j in range(3):
            assert kernel[i, j] == int((on[i] == on[j]).sum())
    assert grad is not None and grad.shape == x.shape


def test_identical_images_make_the_naswot_kernel_singular():
    x = torch.randn(1, 3, 32, 32).repeat(2, 1, 1, 1)
    kernel, _ = relu_agreement_and_input_gradient(fresh_network(CONV3, seed=0), x)
    assert torch.linalg.slogdet(kernel)[1] == -math.inf


def test_jacobian_score_of_uncorrelated_rows_is_its_maximum():
    rows = torch.tensor([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 1.0, -1.0], [1.0, 1.0, -1.0, -1.0]])
    eps = 1e-5
    assert jacobian_score(rows) == pytest.approx(-3 * (math.log(1 + eps) + 1 / (1 + eps)))
    correlated = rows.clone()
    correlated[1] = rows[0] + 0.1 * rows[1]
    assert jacobian_score(correlated) < jacobian_score(rows)
    assert jacobian_score(torch.ones(2, 4)) == -math.inf  # constant rows: no correlation defined


def test_synflow_is_seeded_and_zero_without_a_path():
    assert synflow(CONV3, 0) == synflow(CONV3, 0) > 0
    assert synflow(CUT, 0) == 0.0


def test_proxy_scores_of_a_cut_network_rank_last():
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])
    good, cut = proxy_scores(CONV3, 0, x, y), proxy_scores(CUT, 0, x, y)
    assert set(PROXIES) | {"seconds"} == set(good)
    assert all(math.isfinite(good[p]) for p in PROXIES)
    assert cut["jacob_cov"] == -math.inf and cut["synflow"] == 0.0
    assert all(cut[p] < good[p] for p in PROXIES if p != "naswot")


def test_sample_is_seeded_sorted_and_unique():
    rows = sample_nets(100, 10, seed=3)
    assert len(set(rows)) == 10 and (np.diff(rows) > 0).all()
    assert np.array_equal(rows, sample_nets(100, 10, seed=3))
    assert np.array_equal(sample_nets(5, None, 0), np.arange(5))


def test_stage_writes_scores_and_report(tmp_path):
    archs = [CONV3, CUT, arch_string(("skip_connect", "nor_conv_1x1", "avg_pool_3x3") * 2),
             arch_string(("nor_conv_1x1",) * 6)]  # fmt: skip
    acc = np.array([94.0, 10.0, 80.0, 90.0])
    labels = pa.table({"net": np.arange(4, dtype=np.int32), "arch": archs, "cifar10_valid_val_acc": acc,
                       "cifar10_test_acc": acc, "cifar100_test_acc": acc, "imagenet16_test_acc": acc,
                       "params": np.array([10, 1, 5, 8])})  # fmt: skip
    files.write_table(labels, tmp_path / "labels.parquet", schemas.LABELS)
    cfg = settings("proxies", images=write_images(tmp_path / "img.npz"), sample=None, batch_size=4, bootstrap=5,
                   workers=1)
    report = proxies_from_files(tmp_path / "labels.parquet", "cifar10_test_acc", cfg, tmp_path / "p.parquet",
                                tmp_path / "proxies.json")  # fmt: skip
    scores = pq.read_table(tmp_path / "p.parquet")
    assert scores.schema.equals(schemas.PROXY_SCORES) and scores.num_rows == 4
    assert json.loads((tmp_path / "proxies.json").read_text()) == json.loads(json.dumps(report))
    assert set(report["proxies"]) == {*PROXIES, "params", "flops_nb201", "flops_2mac"}
    assert report["proxies"]["jacob_cov"]["non_finite"] == 1  # the cut network
    assert report["proxies"]["params"]["kendall_tau_b"] == pytest.approx(1.0)
    table = proxies_markdown(report)
    assert "4 of the 4 NB201 nets" in table and "| synflow |" in table
