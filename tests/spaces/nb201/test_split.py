import pyarrow.parquet as pq
import pytest

from tart.spaces.nb201.split import SplitError, nb201_roles, write_split


def test_nb201_protocol():
    roles = nb201_roles(15625, 1563, 200)
    assert roles[:1563] == ["train"] * 1563
    assert roles[1563:1763] == ["val"] * 200
    assert set(roles[1763:]) == {"rest"} and len(roles) == 15625


def test_split_file(tmp_path):
    write_split(10, 3, 2, tmp_path / "s.parquet")
    assert pq.read_table(tmp_path / "s.parquet").to_pydict()["role"] == ["train"] * 3 + ["val"] * 2 + ["rest"] * 5


def test_split_too_large():
    with pytest.raises(SplitError, match="exceeds the 10"):
        nb201_roles(10, 9, 2)
