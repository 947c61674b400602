import json

import numpy as np
import pytest
from helpers import settings, yaml_params

from tart.core.params import DeepNets1MProtocol
from tart.evaluation.deepnets1m_protocol import MissingPublishedFile, protocol_markdown, require_inputs, run_protocol


def synthetic_labels(reference, path):
    """Labels the test makes up for the format-reference nets (they have no real ones): `time` follows the node
    count (a feature of the pooled representation), `val_acc` the parameter count, `converge_time` nothing."""
    meta = json.loads((reference / "deepnets1m_eval_meta.json").read_text())
    rng = np.random.default_rng(0)
    results = {}
    for split in ("val", "test"):
        results[split] = {}
        for k, net in enumerate(meta[split]["nets"]):
            logp = np.log(net["num_params"]["cifar10"])
            results[split][str(k)] = {
                "params": net["num_params"]["cifar10"], "time": float(np.log(net["num_nodes"]) + rng.normal(0, 0.02)),
                "val_acc": float(80 + logp + rng.normal(0, 0.01)), "converge_time": float(rng.normal()),
            }  # fmt: skip
    path.write_text(json.dumps(results))
    return path


def small_config(reference, labels, **kw) -> DeepNets1MProtocol:
    base = dict(
        eval_h5=reference / "deepnets1m_eval.hdf5", eval_meta=reference / "deepnets1m_eval_meta.json",
        eval_md5=None, labels=labels, properties=["val_acc", "time", "converge_time"], seeds=[0, 1], holdout=10,
        svr_c=[1.0, 10.0], svr_gamma=["scale"], svr_epsilon=[0.1], svr_folds=3,
        train={**yaml_params()["deepnets1m_protocol"]["train"], "epochs": 2, "batch_size": 16, "d_model": 16,
               "n_layers": 1, "d_ff": 32, "threads": 1, "device": "cpu"},
    )  # fmt: skip
    return settings("deepnets1m_protocol", **{**base, **kw})


def test_protocol_on_reference_files_with_synthetic_labels(reference, tmp_path):
    cfg = small_config(reference, synthetic_labels(reference, tmp_path / "labels.json"))
    result = run_protocol(cfg, tmp_path / "work")
    assert result["fit_nets"] == 50 and result["test_nets"] == 50
    time_, acc = result["results"]["time"], result["results"]["val_acc"]
    assert acc["params"]["kendall_tau_b_mean"] > 0.9  # val_acc was made from the parameter count
    assert time_["svr_mean_pooled"]["kendall_tau_b_mean"] > 0.6  # time from the node count, which the SVR sees
    assert len(time_["tart"]["per_seed"]) == 2
    assert abs(result["results"]["converge_time"]["params"]["kendall_tau_b_mean"]) < 0.3  # pure noise
    assert "parameter count" in protocol_markdown(result)


def test_missing_published_file_says_what_to_download(reference, tmp_path):
    cfg = small_config(reference, tmp_path / "labels.json", eval_h5=None)
    with pytest.raises(MissingPublishedFile) as err:
        require_inputs(cfg)
    message = str(err.value)
    assert "deepnets1m_protocol.eval_h5 is not set" in message
    assert "https://dl.fbaipublicfiles.com/deepnets1m/deepnets1m_eval.hdf5" in message
    assert "1f5641329271583ad068f43e1521517e" in message and "deepnets1m_meta.tar.gz" in message


def test_wrong_file_is_caught_by_its_md5(reference, tmp_path):
    cfg = small_config(reference, tmp_path / "labels.json", eval_md5="1f5641329271583ad068f43e1521517e")
    with pytest.raises(MissingPublishedFile, match="is not the published 1f56"):
        require_inputs(cfg)


def test_a_net_without_a_label_is_an_error(reference, tmp_path):
    labels = synthetic_labels(reference, tmp_path / "labels.json")
    data = json.loads(labels.read_text())
    del data["test"]["7"]["time"]
    labels.write_text(json.dumps(data))
    with pytest.raises(KeyError, match="no 'time' for test/7"):
        run_protocol(small_config(reference, labels), tmp_path / "work")
