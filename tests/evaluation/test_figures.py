"""The comparison figures: one colour per model family, variants told apart by line style and marker, a headline of
each family's best variant."""

import pytest

from tart.evaluation.figures import bar_rows, best_per_family, family_of, tau_vs_train_size, variant_styles


def entry(predictor, taus, published=False):
    return {"predictor": predictor, "name": predictor, "published": published,
            "scores": {n: {"kendall_tau_b": t, "kendall_tau_b_std": 0.01} for n, t in taus.items()}}  # fmt: skip


ENTRIES = [
    entry("tart", {781: 0.78, 1563: 0.80}),
    entry("tart_ensemble", {781: 0.79, 1563: 0.82}),
    entry("narformer", {781: 0.70, 1563: 0.75}),
    entry("narformer_live", {781: 0.79, 1563: 0.81}),
    entry("gbm_canonical", {781: 0.86, 1563: 0.87}),
    entry("rf_canonical", {781: 0.83, 1563: 0.85}),
    entry("params", {781: 0.58, 1563: 0.58}),
    entry("ceiling", {781: 0.89, 1563: 0.89}),
    entry("published", {781: 0.849, 1563: 0.901}, published=True),
]


def test_a_family_shares_a_colour_and_its_variants_differ_in_style():
    styles = variant_styles(ENTRIES)
    assert styles["tart"]["color"] == styles["tart_ensemble"]["color"] != styles["narformer"]["color"]
    assert (styles["tart"]["linestyle"], styles["tart"]["marker"]) != (styles["tart_ensemble"]["linestyle"],
                                                                        styles["tart_ensemble"]["marker"])  # fmt: skip
    colours = {family_of(p)[1] for p in styles} | {"grey", "black"}  # references keep their own colours
    assert len(colours) == len({family_of(p)[0] for p in styles}) + 2
    assert "ceiling" not in styles and "published" not in styles


def test_headline_keeps_each_familys_best_variant_at_the_largest_size():
    best = [e["predictor"] for e in best_per_family(ENTRIES, 1563)]
    assert best == ["tart_ensemble", "narformer_live", "gbm_canonical", "rf_canonical", "params"]


def test_a_predictor_outside_every_family_is_named(tmp_path):
    with pytest.raises(ValueError, match="no figure family for predictor 'mystery'"):
        tau_vs_train_size([*ENTRIES, entry("mystery", {781: 0.5})], tmp_path / "tau.png")


def test_bars_take_each_familys_best_variant_at_each_size_and_name_it_where_it_changes():
    mixed = [
        *ENTRIES,
        entry("gp_canonical", {781: 0.865, 1563: 0.880}),
        entry("gp_gbm_canonical", {781: 0.868, 1563: 0.879}),
    ]
    rows = dict(bar_rows(mixed, [781, 1563]))
    label = "Gaussian process: mixed with gradient boosting (781), function-class cell features (1563)"
    assert {n: e["predictor"] for n, e in rows[label].items()} == {781: "gp_gbm_canonical", 1563: "gp_canonical"}
    assert {n: e["predictor"] for n, e in rows["tart_ensemble"].items()} == {781: "tart_ensemble",
                                                                             1563: "tart_ensemble"}  # fmt: skip
    assert list(rows)[-2:] == ["ceiling", "published"]
