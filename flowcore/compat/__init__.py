"""Compatibility namespaces (`flowcore.compat.v1`)."""
