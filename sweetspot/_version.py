"""The package version, in a module of its own so nothing inside imports the package face."""

__version__ = "0.1.0"
