"""Turns: threads that run Python-heavy steps back to back take turns.

numpy releases the GIL inside every operation on more than ~500 elements.
Two threads that each run a per-record step (queue-runner threads) then hand
the GIL to each other at every such operation, and every handoff is a thread
switch.  Measured here: two threads casting and scaling 784-element arrays
spend 3.0 us per iteration against 1.4 us for one thread alone, and the
"MLP from TFRecords" pipeline read 27k records/s with one runner thread but
16k with two.

A thread runs its steps in a turn (`take_turns`) while the others wait for
the turn on a lock, not on the GIL, so the GIL releases inside the steps cost
nothing.  A thread gives its turn up where it may wait for another thread
(`give_up`: a queue or condition wait, a py_func's user code), so a blocked
thread never holds the others back; and a thread that waited `PATIENCE`
seconds runs its step without a turn, so a thread blocking somewhere
unforeseen only slows the others down, it cannot deadlock them.  A turn is
only ever waited for at the start of a step, with no other lock held, so
waiting for a resource lock needs no `give_up`: its holder is inside a step,
not waiting for the turn, and a short critical section is not worth a turn
(giving it up there let both threads run again and fight over the lock).

`FLOWCORE_TURNS=0` in the environment switches turns off.
"""
import os
import threading

PATIENCE = 0.002    # seconds a step waits for a turn before it runs without one

_lock = threading.Lock()
_local = threading.local()
_enabled = os.environ.get("FLOWCORE_TURNS", "1") != "0"


def _after_fork_in_child():
    # a forked child has only the forking thread: a turn another thread held
    # at the fork would otherwise stay taken, costing every step PATIENCE
    global _lock, _local
    _lock = threading.Lock()
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def take_turns(step):
    """`step` (a function of no arguments) wrapped to run in a turn.

    The turn is kept from one step to the next: handing it over at the end
    of every step would cost a thread switch per step, the very cost turns
    save.  It passes to another thread when its holder blocks (`give_up`),
    when a waiting thread's patience runs out, or at `end_turns()`."""
    if not _enabled:
        return step

    def run():
        local = _local
        if not getattr(local, "held", False):
            local.held = _lock.acquire(True, PATIENCE)
        return step()
    return run


def give_up():
    """Give up the calling thread's turn, if it holds one.  Call before
    anything that may block; the thread's next step waits for a turn again."""
    if getattr(_local, "held", False):
        _local.held = False
        _lock.release()


end_turns = give_up     # a thread whose steps are over (the QueueRunner loop ended)
