"""The tart_grid stage fits each training-set size with its own recipe: the `train` section with that size's
overrides."""

import json

from helpers import with_archs

from tart.core.params import TartGrid
from tart.training.tart_grid import tart_grid_from_files


def test_each_size_fits_its_own_recipe_and_the_report_names_it(tmp_path):
    p = with_archs(tmp_path)
    grid = TartGrid(train_sizes=[20, 30], seeds=[0], workers=1, overrides={20: {"teacher": "gbm_canonical"}})
    out = tmp_path / "tart_grid.json"
    report = tart_grid_from_files(p.paths.tokens, p.paths.labels, p.train, p.evaluate.test_label, grid,
                                  p.split.val_size, out)  # fmt: skip
    taught = {r["n_train"]: r["taught_nets"] for r in report["runs"] if r["predictor"] == "tart"}
    assert taught == {20: 60 - 20 - 10, 30: 0}  # the teacher scores every net after the validation ones
    written = json.loads(out.read_text())
    assert written["recipes"]["20"]["teacher"] == "gbm_canonical" and written["recipes"]["30"]["teacher"] == "none"
    assert written["model"]["teacher"] == "none"  # the `train` section itself
