"""Renderers of the results document. Nothing here imports pytest."""
