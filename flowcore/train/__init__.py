"""Training: optimizers, learning-rate schedules, global step, checkpoints."""
__all__ = []
