import shutil

import pytest

from tart.spaces.nb201.labels import CIFAR10_VALID, NATS, LabelError, load_nb201_labels


@pytest.fixture
def raw(mirror, tmp_path):
    for rel in (NATS, CIFAR10_VALID):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(mirror / rel, tmp_path / rel)
    return tmp_path


def test_labels_join(raw):
    table = load_nb201_labels(raw)
    assert table.num_rows == 15625
    row = table.slice(0, 1).to_pylist()[0]
    assert row["arch"].startswith("|avg_pool_3x3~0|+|nor_conv_1x1~0|")
    assert row["cifar10_valid_val_acc"] == pytest.approx(81.98266665690103)
    assert row["cifar10_test_acc"] == pytest.approx(85.86333333333334)


def test_missing_label_names_file_and_index(raw):
    path = raw / NATS
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(
        LabelError, match=r"nats_bench.csv: column 'arch' has 15624 rows; a label is missing for index 15624"
    ):
        load_nb201_labels(raw)


def test_nan_label_names_file_and_row(raw):
    path = raw / CIFAR10_VALID
    lines = path.read_text().splitlines()
    cols = lines[4].split(",")
    cols[6] = "nan"
    lines[4] = ",".join(cols)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(
        LabelError, match=r"nasbench201_cifar10.csv: row for index 3: 'cifar10_valid_val_acc' is missing or NaN"
    ):
        load_nb201_labels(raw)
