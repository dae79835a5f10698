"""digigov: an open-source digital-government platform (platform + brain)."""

__version__ = "0.1.0"
