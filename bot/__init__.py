"""Stairwell (楼道通): a WeChat group assistant for community governance."""

__version__ = "0.1.0"
