"""Scoring and reporting: metrics named for what they compute, the evaluate and figures stages, the generated
results and comparison tables, function-class means, and the DeepNets-1M protocol profile."""
