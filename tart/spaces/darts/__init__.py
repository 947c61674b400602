"""DARTS-style DeepNets-1M networks from net_args, graphs without building modules, our DeepNets-1M-style generator,
self-measured properties, and the check against the original generator's files."""
