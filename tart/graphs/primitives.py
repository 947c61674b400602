"""The 15 canonical DeepNets-1M primitives, in the id order of the dataset's own loader."""

PRIMITIVES: tuple[str, ...] = (
    "max_pool",
    "avg_pool",
    "sep_conv",
    "dil_conv",
    "conv",
    "msa",
    "cse",
    "sum",
    "concat",
    "input",
    "bias",
    "bn",
    "ln",
    "pos_enc",
    "glob_avg",
)
PRIMITIVE_ID: dict[str, int] = {name: i for i, name in enumerate(PRIMITIVES)}

# Names that appear in published `primitives_ext` maps but are merged into a canonical primitive.
ALIASES: dict[str, str] = {"conv_1x1": "conv"}


def canonical_id(name: str) -> int:
    """Canonical id of a primitive name as found in a file's `primitives_ext`; KeyError if unknown."""
    return PRIMITIVE_ID[ALIASES.get(name, name)]
