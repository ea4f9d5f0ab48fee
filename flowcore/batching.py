"""Batched steps: a QueueRunner's per-element step run for k elements at once.

TF1's per-record pipeline (read one record, decode it, enqueue it) pays the
session's per-run cost and numpy's per-call cost once per record, and under
the GIL that caps a threaded pipeline at one core of such calls.  A step of
that shape can run for up to k elements in one go, the way JAX's `vmap` runs
a function over a batch: its one *source* (a dequeue, a reader's read) takes
the elements that are available, up to k; every op between the source and
the enqueue runs its *batch rule*, which computes all rows as its kernel
computes one element; and the enqueue (the *sink*) adds the rows in order.

`batched_step(session, enqueue_op)` returns such a step, or None unless the
step is exactly: one source; ops with batch rules on every path from it to
one `QueueEnqueueV2`; and off those paths only stateless ops, variable reads
and resource handles (which give the same value to every element).  Rules
are registered with their op (`registry.register(..., batch=...)`):

- `Rule(fn, applies)`: `fn(ctx, op, batched, m, *inputs)` returns what the
  kernel returns, for `m` rows; `batched[i]` says whether input i has the
  leading row axis.  `applies(op, batched)`, checked once per plan, says
  whether the rule handles that combination.
- `Source(fn, unread)`: `fn(ctx, op, k, *inputs)` -> (list of outputs, m):
  waits like the kernel for the first element, then takes what is
  available, up to k, without waiting.  `unread(ctx, op, outputs, j,
  *inputs)` gives rows j: back (read next), after element j - 1 failed.
- `Sink(fn)`: `fn(ctx, op, batched, m, *inputs)` checks the rows and
  returns a function that commits them (the enqueue).

What stays the same: the elements, their order within a thread, every
value (rules exist only where numpy's result cannot depend on the layout of
the call: exactly rounded arithmetic, not transcendental functions).  If
anything fails after the source, the step runs the elements it took one by
one through the ordinary kernels: the elements before a bad one are
enqueued, the error is the one the per-element step raises, and the rows
after it go back to the source (`unread`), to be read next.
What changes: a thread takes up to k elements from its source at a time
(fewer when fewer are available; k is `BATCH_STEP`, and
`FLOWCORE_BATCH_STEP=1` switches batching off); variables read beside the
rows are read once per batch; a reader's saved state does not include rows
given back.
"""
import os

import numpy as np

from flowcore import errors

BATCH_STEP = int(os.environ.get("FLOWCORE_BATCH_STEP", "32") or 1)
fallbacks = 0       # batched steps that ran their elements one by one (for tests, profiles)


class Rule:
    __slots__ = ("fn", "applies")

    def __init__(self, fn, applies=None):
        self.fn = fn
        self.applies = applies or (lambda op, batched: True)


class Source:
    __slots__ = ("fn", "unread")

    def __init__(self, fn, unread=None):
        self.fn = fn
        self.unread = unread


class Sink:
    __slots__ = ("fn",)

    def __init__(self, fn):
        self.fn = fn


# -- common rules ---------------------------------------------------------------------

def first_only(op, batched):
    return batched[0] and not any(batched[1:])


def _kernel_itself(ctx, op, batched, m, *args):
    return op._def.kernel(ctx, op, *args)


def leading_axis(applies=first_only):
    """The rule of an op whose kernel maps a leading axis of its first input
    straight through (element-wise ops, decoders, parsers): the kernel itself,
    where `applies` (default: only the first input is batched)."""
    return Rule(_kernel_itself, applies)


def _known_ranks(op, batched):
    return all(t.shape.ndims is not None for t in op.inputs)


def _broadcasting(ctx, op, batched, m, *args):
    """A broadcasting element-wise op: an unbatched input of higher rank than
    the batched ones' elements gets the row axis of size 1 it lacks."""
    ranks = [t.shape.ndims for t in op.inputs]
    top = max(ranks)
    xp = op.xp
    args = list(args)
    for i, (a, b, r) in enumerate(zip(args, batched, ranks)):
        if isinstance(a, (bytes, str)):     # (numpy would make it an S array: NULs lost)
            a = _array(a)
        if b and r < top:
            args[i] = xp.reshape(a, (m,) + (1,) * (top - r) + tuple(np.shape(a)[1:]))
        elif not b:
            args[i] = xp.reshape(a, (1,) * (top + 1 - r) + tuple(np.shape(a)))
    return op._def.kernel(ctx, op, *args)


broadcasting = Rule(_broadcasting, _known_ranks)


# -- the batched step -------------------------------------------------------------------

def batched_step(session, enqueue_op, k=None):
    """A function running `enqueue_op`'s step for up to `k` elements per call
    (see the module docstring), or None when the step is not of that shape."""
    if enqueue_op.type != "QueueEnqueueV2":
        return None
    b = _Batched.build(session, enqueue_op, k)
    return b.run_step if b is not None else None


def batched_fetch(session, tensors, k=None):
    """A function returning `(values, m)`: the values of `tensors` for up to
    `k` elements, each with a leading axis of m rows, as m per-element
    `session.run(tensors)` would return them one after another (a process
    worker's loop).  At the end of input it raises what such a run raises;
    when element j fails, the call returns the j rows before it and the next
    call raises the error.  None when the step cannot be batched."""
    b = _Batched.build(session, list(tensors), k)
    return b.run_fetch if b is not None else None


class _Batched:
    """A compiled batched step: the session's plan for the fetch (an enqueue
    op, or tensors), split into ordinary steps, the source, rules, sink."""

    @classmethod
    def build(cls, session, fetch, k):
        from flowcore import session as _s
        k = BATCH_STEP if k is None else k
        if k <= 1:
            return None
        plan = session._plan(fetch, None)
        sink = fetch if not isinstance(fetch, list) else None
        prog = _program(plan.steps, sink, _s)
        if prog is None:
            return None
        self = cls()
        self.session, self.plan, self.prog, self.k = session, plan, prog, k
        self.steps = list(plan.steps)       # (the plan may drop settled steps later)
        self.singles = [_s._step_fn(*st) for st in self.steps]     # the per-element steps
        self.host = _s._host_value
        self.pending = None
        self.fetching = sink is None
        if sink is None:
            rowed = set()
            for kind, st, _, _ in prog:
                if kind in (1, 2):
                    rowed.update(_out_slots(st))
            self.fetch_rows = [s in rowed for s in plan.fetch_slots]
        return self

    def _elements(self, src, m, keep):
        """The fallback: each taken element through the ordinary steps; with
        `keep`, the fetched values of each (until one fails: its error is
        raised at once if it is the first, else kept for the next call)."""
        global fallbacks
        fallbacks += 1
        st0, outs, src_args = src
        src_index, src_slots = self.steps.index(st0), _out_slots(st0)
        ctx = self.session._ctx
        template, singles, plan = self.plan.template, self.singles, self.plan
        got = []
        for j in range(m):
            vals = template[:]
            step = None
            try:
                for i, fn in enumerate(singles):
                    if i == src_index:
                        for s, v in zip(src_slots, outs):
                            vals[s] = v[j, ...]
                        continue
                    step = fn
                    fn(vals, ctx)
            except Exception as e:
                if isinstance(e, errors.OpError):
                    if e._op is None and step is not None:
                        e._op = step.op
                    err = e
                else:
                    err = errors.wrap_kernel_error(e, step.op)
                    err.__cause__ = e
                unread = st0[1]._def.batch.unread
                if unread is not None and j + 1 < m:    # the rest stays unread, as
                    unread(ctx, st0[1], outs, j + 1, *src_args)     # per element
                if not keep or not got:
                    raise err
                self.pending = err
                break
            if keep:
                got.append([_array(self.host(vals[s])) for s in plan.fetch_slots])
        return got

    def _run(self):
        """Run the program once: (vals, m) or, after a fallback, (None, rows)."""
        if self.session._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        ctx = self.session._ctx
        vals = self.plan.template[:]
        m = 0
        op = src = None
        k = self.k
        try:
            for kind, st, fn, batched in self.prog:
                op, ins = st[1], st[2]
                if kind == 0:
                    if src is None:
                        fn(vals, ctx)
                        continue
                    try:                # after the source: a failure here fails
                        fn(vals, ctx)   # each element; run them one by one
                    except Exception:
                        return None, self._elements(src, m, self.fetching)
                    continue
                args = [vals[i] for i in ins]
                if kind == 1:
                    outs, m = fn(ctx, op, k, *args)
                    src = (st, outs, args)
                    for s, v in zip(_out_slots(st), outs):
                        vals[s] = v
                    continue
                try:
                    r = fn(ctx, op, batched, m, *args)
                except Exception:
                    return None, self._elements(src, m, self.fetching)
                if kind == 3:
                    r()                 # the sink's commit: the enqueue
                    continue
                slots = _out_slots(st)
                if len(slots) == 1:
                    vals[slots[0]] = r
                else:
                    for s, v in zip(slots, r):
                        vals[s] = v
        except errors.OpError as e:
            if e._op is None and op is not None:
                e._op = op
            raise
        except Exception as e:
            if op is None:
                raise
            raise errors.wrap_kernel_error(e, op) from e
        return vals, m

    def run_step(self):
        self._run()

    def run_fetch(self):
        if self.pending is not None:
            err, self.pending = self.pending, None
            raise err
        vals, m = self._run()
        if vals is None:            # elements run one by one: stack their rows
            rows = m
            return [np.stack([r[i] for r in rows]) for i in range(len(self.fetch_rows))], \
                len(rows)
        host = self.host
        out = []
        for s, rowed in zip(self.plan.fetch_slots, self.fetch_rows):
            v = vals[s]
            if rowed:
                out.append(np.asarray(host(v)))
            else:                   # the same for every element
                out.append(np.repeat(_array(host(v))[None], m, axis=0))
        return out, m


def _array(v):
    return np.asarray(v, dtype=object) if isinstance(v, (bytes, str)) else np.asarray(v)


def _out_slots(st):
    _, _, _, out, outs = st
    return outs if out == -1 else (out,)


def _program(steps, enqueue_op, _s):
    """[(kind, step, fn, batched flags)]: kind 0 runs the ordinary step, 1 the
    source, 2 a batch rule, 3 the sink (`enqueue_op`; None: the step ends in
    fetches); None if the step cannot be batched."""
    if not steps or enqueue_op is not None and steps[-1][1] is not enqueue_op:
        return None
    rowed = set()          # slots holding batched values
    prog = []
    have_source = False
    for st in steps:
        kernel, op, ins, out, outs = st
        rule = op._def.batch
        batched = tuple(i in rowed for i in ins)
        if enqueue_op is not None and op is enqueue_op:
            if not isinstance(rule, Sink) or not have_source or not any(batched):
                return None
            prog.append((3, st, rule.fn, batched))
        elif any(batched):
            if not isinstance(rule, Rule) or op._def.stateful or not rule.applies(op, batched):
                return None
            rowed.update(_out_slots(st))
            prog.append((2, st, rule.fn, batched))
        elif isinstance(rule, Source):
            if have_source:
                return None
            have_source = True
            rowed.update(_out_slots(st))
            prog.append((1, st, rule.fn, batched))
        else:
            # off the batched paths: once per step must equal once per element
            if op._def.stateful and kernel is not _s._read_ref and \
                    not _s._session_constant(op, op._def):
                return None
            prog.append((0, st, _s._step_fn(*st), batched))
    return prog if have_source else None
