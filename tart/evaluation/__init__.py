"""Scoring TART's checkpoint and reporting: the evaluate and figures stages, the generated result and comparison
tables, and the DeepNets-1M property protocol profile."""
