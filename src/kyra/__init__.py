"""Kyra: workflow automation whose workflows heal themselves."""

__version__ = "0.1.0"
