"""Stub library of the corpus layer template: its content is not what the controls read."""
