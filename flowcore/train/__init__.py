"""Training: optimizers, learning-rate schedules, global step, checkpoints.

`tf.train` collects the `__all__` of this package (and of `saver`)."""
from flowcore.train.global_step import (assert_global_step, create_global_step,  # noqa: F401
                                        get_global_step, get_or_create_global_step,
                                        global_step)
from flowcore.train.learning_rate import (exponential_decay, inverse_time_decay,  # noqa: F401
                                          natural_exp_decay, piecewise_constant)
from flowcore.train.optimizer import Optimizer  # noqa: F401
from flowcore.train.optimizers import (AdagradOptimizer, AdamOptimizer,  # noqa: F401
                                       GradientDescentOptimizer, MomentumOptimizer,
                                       RMSPropOptimizer)

__all__ = ["Optimizer", "GradientDescentOptimizer", "MomentumOptimizer", "AdagradOptimizer",
           "RMSPropOptimizer", "AdamOptimizer", "exponential_decay", "inverse_time_decay",
           "natural_exp_decay", "piecewise_constant", "get_global_step", "create_global_step",
           "get_or_create_global_step", "global_step", "assert_global_step"]
