"""zhongcao (种草): an open-source interest-commerce platform."""

__version__ = "0.1.0"
