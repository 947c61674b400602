"""What TART is judged against without a Transformer: parameter count, FLOPs and classic regressors on cell
features (the baselines stage), and zero-cost proxies (the proxies stage)."""
