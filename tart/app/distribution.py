"""How far a network lies from the nets a checkpoint was trained on.

A checkpoint only knows the architectures it has seen: a prediction for a net built from unseen tokens, longer
than any training net, or unlike all of them in the model's own representation is an extrapolation, whatever the
number looks like. The profile kept with the shipped checkpoint records three facts about its training nets, and
`assess` measures an input against each:

- the token ids seen in each input channel (an unseen id reaches the model as an embedding never trained);
- the range of live-node counts (sequence lengths);
- the pooled representation the regression head reads, of every training net. The distance of an input to its
  nearest training net is divided by `reach`, the `REACH_QUANTILE` quantile of the training nets' distances to
  their own nearest other training net, so 1.0 means "as far as the loneliest 1% of the training nets".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from tart.models.transformer import TartModel
from tart.tokens.token_set import TokenSet
from tart.training.train import predict_with_pooled

REACH_QUANTILE = 0.99
FAR = 1.0  # distances above this count as outside the training distribution


@dataclass(frozen=True)
class Profile:
    """What a checkpoint saw in training (see the module docstring)."""

    seen: dict[str, np.ndarray]  # channel -> sorted token ids present in the training nets
    live_nodes: tuple[int, int]  # fewest and most live nodes of a training net
    embeddings: np.ndarray  # (n_train, d_model) pooled representations of the training nets
    reach: float

    def facts(self) -> dict:
        """The JSON part (the embeddings go to their own file)."""
        return {
            "seen_tokens": {c: ids.tolist() for c, ids in self.seen.items()},
            "live_nodes": list(self.live_nodes),
            "reach": self.reach,
            "reach_quantile": REACH_QUANTILE,
        }

    @classmethod
    def from_facts(cls, facts: dict, embeddings: np.ndarray) -> Profile:
        seen = {c: np.asarray(ids, dtype=np.int64) for c, ids in facts["seen_tokens"].items()}
        return cls(seen, tuple(facts["live_nodes"]), embeddings.astype(np.float32), float(facts["reach"]))


def pooled(model: TartModel, ts: TokenSet, rows: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """(len(rows), d_model): the vector the model's regression head reads for each row."""
    return predict_with_pooled(model, ts, rows, batch_size)[1]


def profile(model: TartModel, ts: TokenSet, train_rows: np.ndarray) -> Profile:
    """The profile of the nets at `train_rows` of `ts`, as seen by `model`."""
    if len(train_rows) < 2:
        raise ValueError(f"a training profile needs at least two training nets, got {len(train_rows)}")
    lengths = ts.lengths[train_rows].numpy()
    seen = {}
    for c, channel in enumerate(ts.channels):
        ids = ts.ids[train_rows, :, c].numpy()
        seen[channel] = np.unique(ids[ids > 0])
    embeddings = pooled(model, ts, train_rows)
    # k=2: the nearest point to a training net is itself
    nearest_other = cKDTree(embeddings).query(embeddings, k=2)[0][:, 1]
    reach = float(np.quantile(nearest_other, REACH_QUANTILE))
    if reach <= 0:
        raise ValueError(f"the training nets' embeddings coincide ({REACH_QUANTILE:.0%} quantile of the distance to "
                         "the nearest other training net is 0); the profile cannot scale distances")  # fmt: skip
    return Profile(seen, (int(lengths.min()), int(lengths.max())), embeddings, reach)


@dataclass(frozen=True)
class Assessment:
    """Per input row: how it relates to the training profile."""

    unseen_tokens: np.ndarray  # (N,) int: positions holding a token id no training net has (any channel)
    outside_length: np.ndarray  # (N,) bool: live-node count outside the training range
    distance: np.ndarray  # (N,) float: nearest training net in the embedding, in units of `reach`

    @property
    def outside(self) -> np.ndarray:
        return (self.unseen_tokens > 0) | self.outside_length | (self.distance > FAR)


def assess(profile: Profile, model: TartModel, ts: TokenSet, embeddings: np.ndarray | None = None) -> Assessment:
    """Measure every row of `ts` against `profile` (`ts` must carry the profile's channels). `embeddings`: the
    rows' `pooled` vectors when the caller has them already (from `predict_with_pooled`)."""
    rows = np.arange(len(ts.nets))
    unseen = np.zeros(len(rows), np.int64)
    for c, channel in enumerate(ts.channels):
        ids = ts.ids[:, :, c].numpy()
        novel = (ids > 0) & ~np.isin(ids, profile.seen[channel])
        unseen += novel.sum(1)
    lengths = ts.lengths.numpy()
    low, high = profile.live_nodes
    if embeddings is None:
        embeddings = pooled(model, ts, rows)
    distance = cKDTree(profile.embeddings).query(embeddings, k=1)[0] / profile.reach
    return Assessment(unseen, (lengths < low) | (lengths > high), distance.astype(np.float64))


def reasons(unseen_tokens: int, live_nodes: int, distance: float, live_range: tuple[int, int]) -> str:
    """Why one input lies outside the training distribution, in one line ('' when it does not)."""
    found = []
    if unseen_tokens:
        found.append(f"{unseen_tokens} tokens never seen in training")
    low, high = live_range
    if not low <= live_nodes <= high:
        found.append(f"{live_nodes} live nodes, outside the training range {low}-{high}")
    if distance > FAR:
        found.append(f"distance {distance:.2f} to the nearest training net in the model's embedding "
                     f"({REACH_QUANTILE:.0%} of the training nets lie within {FAR:.0f} of their nearest neighbour)")
    return "; ".join(found)
