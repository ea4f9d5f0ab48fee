"""Op families.  Importing this package registers every op type."""
from flowcore.ops import core, state, math, array, random, nn, control  # noqa: F401
from flowcore.ops import training  # noqa: F401  (fused optimizer updates)
