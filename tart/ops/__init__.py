"""Operating the pipeline over time: results at a git revision, comparing two results beyond noise, and the
scheduled retraining run."""
