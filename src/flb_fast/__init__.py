"""flb_fast: a drop-in, faster replacement for AWS for Fluent Bit on Kubernetes nodes."""

__version__ = "0.1.0"
