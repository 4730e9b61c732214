"""Utilities: ``minidl.utils.data`` (being written)."""
