"""The user-facing side: the tart command line, predicting and screening architectures with a checkpoint, and
training without the pipeline."""
