"""TART: predict a network's trained performance from its computational graph."""

__version__ = "0.1.0"
