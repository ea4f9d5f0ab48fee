"""Every differentiable op's gradient against central finite differences.

Cases come from every `tests/gradcases_<family>.py` module:
`CASES = [(case_id, ["OpType", ...covered], builder, [float64 inputs]), ...]`.
Each input is fed through a placeholder of its dtype and shape; the Jacobian
of each output of `builder(*placeholders)` w.r.t. each floating input, from
`gradients`, must match the numerical one (float64, delta 1e-5).

`test_every_differentiable_op_has_a_case` is the guard: a registered op type
with a gradient function and no case covering it fails it.
"""
import glob
import importlib.util
import os

import numpy as np
import pytest

import flowcore.compat.v1 as tf
from flowcore import gradient_checker, registry

HERE = os.path.dirname(os.path.abspath(__file__))
RTOL = ATOL = 1e-6
DELTA = 1e-5


def _load_cases():
    cases, broken = [], []
    for path in sorted(glob.glob(os.path.join(HERE, "gradcases_*.py"))):
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            spec = importlib.util.spec_from_file_location("_" + name, path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            for case in mod.CASES:
                cases.append((name, case))
        except Exception as e:     # reported by test_case_modules_import
            broken.append((name, "%s: %s" % (type(e).__name__, e)))
    return cases, broken


CASES, BROKEN = _load_cases()


def test_case_modules_import():
    assert not BROKEN, "gradcases modules failed to load: %s" % BROKEN


def test_case_ids_unique():
    ids = [(m, c[0]) for m, c in CASES]
    assert len(ids) == len(set(ids))


def _is_float(a):
    return np.asarray(a).dtype.kind == "f"


@pytest.mark.parametrize("module,case", CASES, ids=["%s:%s" % (m, c[0]) for m, c in CASES])
def test_gradient_matches_finite_differences(module, case):
    case_id, covered, builder, inputs = case
    inputs = [np.asarray(a) for a in inputs]
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.as_dtype(a.dtype), a.shape, name="in%d" % i)
               for i, a in enumerate(inputs)]
        out = builder(*phs)
        outs = list(out) if isinstance(out, (list, tuple)) else [out]
        init = tf.global_variables_initializer()
        for name in covered:                         # the case builds what it claims
            assert any(op.type == name for op in g.get_operations()), \
                "case %s does not build a %s op" % (case_id, name)
        checked = 0
        with tf.Session(graph=g) as sess:
            sess.run(init)
            feed = dict(zip(phs, inputs))
            for y in outs:
                if y is None or not y.dtype.is_floating:
                    continue
                y_shape = np.shape(sess.run(y, feed))
                for i, (ph, a) in enumerate(zip(phs, inputs)):
                    if not _is_float(a):
                        continue
                    theo, num = gradient_checker.compute_gradient(
                        ph, a.shape, y, y_shape, x_init_value=a, delta=DELTA,
                        extra_feed_dict={p: v for p, v in feed.items() if p is not ph})
                    np.testing.assert_allclose(
                        theo, num, rtol=RTOL, atol=ATOL,
                        err_msg="case %s: d %s / d input %d" % (case_id, y.name, i))
                    checked += 1
        assert checked, "case %s has no floating input/output to check" % case_id


def test_every_differentiable_op_has_a_case():
    covered = set()
    for _, case in CASES:
        covered.update(case[1])
    # (op types named FlowcoreTest* are registered by tests of the machinery)
    missing = [t for t in registry.registered_types()
               if callable(registry.get(t).grad) and t not in covered
               and not t.startswith("FlowcoreTest")]
    assert not missing, ("ops with a gradient function but no gradient-check case in "
                         "tests/gradcases_*.py: %s" % missing)
