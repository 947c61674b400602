"""Fitting models: one training loop, label scaling, losses, checkpoints, and the train, tart_grid, narformer and
tgnas stages (plus masked-node pretraining)."""
