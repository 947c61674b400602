"""Search spaces that produce real networks: NAS-Bench-201 (networks, labels, cells, the build and split stages)
and DARTS-style DeepNets-1M nets (networks, fast graphs, our generator, measured properties)."""
