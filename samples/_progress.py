"""One updating status line for long-running samples; silent when stdout is
not a terminal (pipes, CI, tests), so only the samples' results are printed."""
import sys
import time


class Progress:
    """`update(text)` rewrites the status line at most ten times a second;
    `done()` clears it."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.enabled = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last = 0.0
        self._width = 0

    def update(self, text, force=False):
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        pad = max(0, self._width - len(text))
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()
        self._width = len(text)

    def done(self):
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
