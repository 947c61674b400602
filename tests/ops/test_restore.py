"""`tart restore` removes DVC's lock table only when a killed DVC command left it unreadable."""

import json

from tart.ops.restore import RWLOCK, remove_unreadable_rwlock


def test_only_an_unreadable_lock_table_is_removed(tmp_path):
    assert remove_unreadable_rwlock(tmp_path) == []  # none there
    table = tmp_path / RWLOCK
    table.parent.mkdir(parents=True)
    table.write_text(json.dumps({"read": {}, "write": {}}))
    assert remove_unreadable_rwlock(tmp_path) == [] and table.exists()  # DVC's own: kept
    for left in ("", '{"read": {}, "wri', b"\xff\xfe"):
        table.write_bytes(left.encode() if isinstance(left, str) else left)
        assert remove_unreadable_rwlock(tmp_path) == [str(RWLOCK)] and not table.exists()
