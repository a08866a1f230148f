"""micromoves — plan, track and learn from micro-career moves."""

__version__ = "0.1.0"
