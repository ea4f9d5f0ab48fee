import pytest

import flowcore.compat.v1 as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    """Every test starts with an empty default graph."""
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()
