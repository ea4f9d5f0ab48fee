"""TF1's seed rules: a graph-level seed and an op-level seed make the pair
`(seed, seed2)` a random op is built with.

- neither set: (None, None), the op draws from fresh entropy in every session;
- graph seed only: the op seed is derived from the number of ops already in
  the graph (TF's `graph._last_id`), so a program rebuilt the same way gets
  the same seeds and therefore the same random values;
- op seed only: the graph seed defaults to `DEFAULT_GRAPH_SEED`;
- (0, 0) is TF's "nondeterministic" marker, so it becomes (0, 2**31 - 1).
"""
from flowcore.graph import get_default_graph

__all__ = ["set_random_seed", "get_seed"]

DEFAULT_GRAPH_SEED = 87654321
_MAXINT32 = 2 ** 31 - 1


def _truncate_seed(seed):
    return int(seed) % _MAXINT32


def set_random_seed(seed):
    """Set the graph-level seed of the default graph (None clears it)."""
    get_default_graph().seed = seed


def get_seed(op_seed):
    """The `(graph_seed, op_seed)` pair a random op should use (see module doc)."""
    g = get_default_graph()
    graph_seed = g.seed
    if graph_seed is not None:
        if op_seed is None:
            op_seed = g._last_id
        seeds = _truncate_seed(graph_seed), _truncate_seed(op_seed)
    elif op_seed is not None:
        seeds = DEFAULT_GRAPH_SEED, _truncate_seed(op_seed)
    else:
        seeds = None, None
    if seeds == (0, 0):
        return 0, _MAXINT32
    return seeds
