"""The predictors as torch modules, each with a typed config: TART (token Transformer), the NAR-Former-style
model and the TG-NAS-style GCN (with its operator-description embeddings)."""
