"""Generated protocol buffer modules (being written)."""
__all__ = []
