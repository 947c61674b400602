"""params.yaml is the one source of settings: the typed models hold no values of their own, reject what they do
not know, and one loader finds the file the same way everywhere."""

import dataclasses

import pytest
import yaml
from helpers import ROOT, yaml_params

from tart.core.params import Params, ParamsError, Section, load_params
from tart.models.narformer import NarFormerConfig
from tart.models.tgnas import TgnasConfig
from tart.models.transformer import TartConfig
from tart.training.cell_models import FitConfig


def sections(model: type[Section] = Params) -> list[type[Section]]:
    """`model` and every section model nested in it."""
    found = [model]
    for field in model.model_fields.values():
        if isinstance(field.annotation, type) and issubclass(field.annotation, Section):
            found += sections(field.annotation)
    return found


def test_params_yaml_validates():
    p = load_params(ROOT / "params.yaml")
    assert p.train.epochs == yaml_params()["train"]["epochs"]


@pytest.mark.parametrize("model", sections(), ids=lambda m: m.__name__)
def test_section_models_carry_no_values_of_their_own(model):
    with_default = [name for name, field in model.model_fields.items() if not field.is_required()]
    assert not with_default, f"{model.__name__} has defaults for {with_default}: the value belongs in params.yaml"


@pytest.mark.parametrize("config", [FitConfig, NarFormerConfig, TgnasConfig])
def test_fit_and_model_configs_carry_no_values_of_their_own(config):
    structural = {"fusion_queries"}  # the NAR-Former-style fusion stages: architecture, not a setting
    defaults = [f.name for f in dataclasses.fields(config)
                if f.name not in structural and f.default is not dataclasses.MISSING]  # fmt: skip
    assert not defaults


def test_tart_config_takes_every_train_setting_it_uses():
    train_fields = set(Params.model_fields["train"].annotation.model_fields)
    required = {f.name for f in dataclasses.fields(TartConfig) if f.default is dataclasses.MISSING}
    # vocabulary sizes and length come from the tokens; the rest from the train section, none defaulted
    assert required - {"vocab_sizes", "max_len"} <= train_fields


def write(tmp_path, data) -> object:
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_a_missing_key_names_the_file_and_the_field(tmp_path):
    data = yaml_params()
    del data["train"]["lr"]
    path = write(tmp_path, data)
    with pytest.raises(ParamsError, match=r"(?s)params\.yaml: .*train\.lr\s+Field required"):
        load_params(path)


def test_an_unknown_key_is_refused(tmp_path):
    data = yaml_params()
    data["train"]["learning_rate"] = 0.1
    with pytest.raises(ParamsError, match=r"train\.learning_rate\s+Extra inputs are not permitted"):
        load_params(write(tmp_path, data))


def test_the_loader_honours_an_explicit_path_then_the_environment(tmp_path, monkeypatch):
    data = yaml_params()
    data["train"]["epochs"] = 3
    env_file = write(tmp_path, data)
    monkeypatch.setenv("TART_PARAMS", str(env_file))
    assert load_params().train.epochs == 3
    assert load_params(ROOT / "params.yaml").train.epochs == yaml_params()["train"]["epochs"]
    monkeypatch.setenv("TART_PARAMS", str(tmp_path / "nowhere.yaml"))
    with pytest.raises(ParamsError, match="nowhere.yaml: no such params file; .*--params.*TART_PARAMS"):
        load_params()


def test_settings_cannot_change_after_loading():
    p = load_params(ROOT / "params.yaml")
    with pytest.raises(ValueError, match="frozen"):
        p.train.epochs = 1


def test_grid_overrides_give_each_size_its_own_validated_recipe(tmp_path):
    data = yaml_params()
    data["tart_grid"].update(train_sizes=[781, 1563], overrides={781: {"epochs": 7, "teacher": "gbm_canonical"},
                                                                 1563: {}})
    p = load_params(write(tmp_path, data))
    assert (p.tart_grid.recipe(p.train, 781).epochs, p.tart_grid.recipe(p.train, 781).teacher) == (7, "gbm_canonical")
    assert p.tart_grid.recipe(p.train, 1563) == p.train


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({400: {"epochs": 3}}, r"overrides: sizes \[400\] are not in tart_grid.train_sizes \[781, 1563\]"),
        ({781: {"channels": ["tokens"]}}, r"overrides\[781\]: \['channels'\] cannot differ by training-set size"),
        ({781: {"epoch": 3}}, r"overrides\[781\]: epoch: Extra inputs are not permitted"),
        ({781: {"teacher": "rf"}},
         r"overrides\[781\]: teacher: Input should be 'none', 'gbm_canonical' or 'gp_gbm_canonical'"),
    ],
)
def test_a_grid_override_the_grid_cannot_honour_is_refused(tmp_path, overrides, message):
    data = yaml_params()
    data["tart_grid"].update(train_sizes=[781, 1563], overrides={1563: {}, **overrides})
    with pytest.raises(ParamsError, match=message):
        load_params(write(tmp_path, data))


def test_every_grid_size_needs_its_own_overrides_entry(tmp_path):
    """Each size is its own stage, depending on its own entry: a size without one is refused before DVC would."""
    data = yaml_params()
    data["tart_grid"].update(train_sizes=[781, 1563], overrides={781: {"epochs": 7}})
    with pytest.raises(ParamsError, match=r"no entry for sizes \[1563\]; .*`1563: \{\}` keeps the train recipe"):
        load_params(write(tmp_path, data))
