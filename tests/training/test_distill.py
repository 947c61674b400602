"""Teaching TART with a teacher's scores of unlabelled nets (tart/training/distill.py) and the train stage's use of
it; synthetic tokens labelled with real NB201 cells."""

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers import with_archs

from tart.baselines.baselines import normal_scores
from tart.spaces.nb201.split import write_split
from tart.training.distill import pseudo_nets, student_target, taught_nets, teacher_inputs, teacher_scores
from tart.training.targets import QUANTILES
from tart.training.train import train_from_files


def test_unlabelled_nets_are_all_candidates_or_a_seeded_sample():
    candidates = np.arange(8, 20)
    assert pseudo_nets(candidates, None, 0).tolist() == list(range(8, 20))
    sample = pseudo_nets(candidates, 4, 0)
    assert len(sample) == 4 and set(sample) <= set(candidates) and sorted(sample) == sample.tolist()
    assert sample.tolist() == pseudo_nets(candidates, 4, 0).tolist() != pseudo_nets(candidates, 4, 1).tolist()
    assert pseudo_nets(candidates, 100, 0).tolist() == list(range(8, 20))
    with pytest.raises(ValueError, match="unlabelled count -1"):
        pseudo_nets(candidates, -1, 0)


def test_true_labels_only_where_the_protocol_gives_them():
    label, teacher = np.array([3.0, 1.0, 2.0, 9.0, 9.0, 7.0]), np.array([0.1, 0.2, 0.3, 0.4, -0.5, 0.6])
    train = np.array([0, 1, 2])
    target = student_target(label, teacher, train)
    assert target[:3].tolist() == normal_scores(label[:3]).tolist() and target[3:].tolist() == [0.4, -0.5, 0.6]
    fitted, y = taught_nets(label, teacher, train, np.array([4, 5]), None, 0)
    assert fitted.tolist() == [0, 1, 2, 4, 5] and y.tolist() == [*normal_scores(label[:3]), -0.5, 0.6]


def test_the_teacher_sees_only_its_training_labels(tmp_path):
    archs = pq.read_table(with_archs(tmp_path).paths.labels)["arch"].to_pylist()
    label = np.linspace(0, 1, len(archs))
    features = teacher_inputs("gbm_canonical", archs)
    scores = teacher_scores("gbm_canonical", features, label, np.arange(30), 0)
    noisy = label.copy()
    noisy[30:] = np.random.default_rng(0).permutation(noisy[30:])
    assert np.array_equal(scores, teacher_scores("gbm_canonical", features, noisy, np.arange(30), 0))
    with pytest.raises(ValueError, match="unknown teacher 'oracle'"):
        teacher_inputs("oracle", archs)


def test_the_mix_teacher_chooses_its_share_on_the_validation_nets_only(tmp_path):
    archs = pq.read_table(with_archs(tmp_path).paths.labels)["arch"].to_pylist()
    label = np.linspace(0, 1, len(archs))
    inputs = teacher_inputs("gp_gbm_canonical", archs)
    train, val = np.arange(30), np.arange(30, 40)
    scores = teacher_scores("gp_gbm_canonical", inputs, label, train, 0, val=val)
    noisy = label.copy()
    noisy[40:] = np.random.default_rng(0).permutation(noisy[40:])
    assert np.array_equal(scores, teacher_scores("gp_gbm_canonical", inputs, noisy, train, 0, val=val))
    with pytest.raises(ValueError, match="'gp_gbm_canonical' chooses its mix on validation nets"):
        teacher_scores("gp_gbm_canonical", inputs, label, train, 0)


def test_the_train_stage_fits_the_taught_nets_and_records_how_many(tmp_path):
    p = with_archs(tmp_path)
    split = tmp_path / "split.parquet"
    write_split(60, 30, 10, split)
    cfg = p.train.model_copy(update={"teacher": "gbm_canonical", "unlabelled": 7, "epochs": 2})
    model, curves, facts = train_from_files(cfg, p.paths.tokens, p.paths.labels, split)
    assert facts["taught_nets"] == 7 and len(curves) == 2
    mix = cfg.model_copy(update={"teacher": "gp_gbm_canonical"})  # reads the split's validation nets too
    assert train_from_files(mix, p.paths.tokens, p.paths.labels, split)[2]["taught_nets"] == 7
    # fit to normal scores, yet the outputs map back to label units through the training nets' own labels
    roles = pq.read_table(split).to_pydict()
    train_nets = [n for n, r in zip(roles["net"], roles["role"]) if r == "train"]
    table = pq.read_table(p.paths.labels).to_pydict()
    label = dict(zip(table["net"], table[p.train.target]))
    expected = np.quantile([label[n] for n in train_nets], QUANTILES).tolist()
    assert facts["target_scale"]["quantiles"] == expected
    plain = p.train.model_copy(update={"teacher": "none", "epochs": 2})
    assert "taught_nets" not in train_from_files(plain, p.paths.tokens, p.paths.labels, split)[2]
    with pytest.raises(ValueError, match=r"scores train.target only.*aux_targets \['cifar100_test_acc'\]"):
        train_from_files(cfg.model_copy(update={"aux_targets": ["cifar100_test_acc"]}), p.paths.tokens,
                         p.paths.labels, split)  # fmt: skip
    labels = pq.read_table(p.paths.labels)
    pq.write_table(labels.drop(["arch"]), p.paths.labels)
    with pytest.raises(KeyError, match="no 'arch' column"):
        train_from_files(cfg, p.paths.tokens, p.paths.labels, split)

