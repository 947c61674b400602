"""TART: predict a network's trained performance from its computational graph.

Subpackages, from the ground up: core (settings, schemas, file writes), graphs (the DeepNets-1M graph model), io
(the DeepNets-1M files, fetch, extract), spaces (NAS-Bench-201, DARTS-style nets), tokens, models, training,
evaluation, baselines, app (the `tart` command), ops (results across commits, scheduled retraining).
"""

__version__ = "0.1.0"
