"""The computational graph in DeepNets-1M terms (one node per primitive), the primitive ids, graph rewrites,
and the conversion of any torch.nn.Module into such a graph."""
