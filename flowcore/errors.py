"""TensorFlow's error hierarchy: every failure a run reports is an `OpError`.

Each class carries TF's canonical error code.  `OpError(node_def, op, message)`
keeps TF's constructor order so user code that raises them still works.
"""

OK = 0
CANCELLED = 1
UNKNOWN = 2
INVALID_ARGUMENT = 3
DEADLINE_EXCEEDED = 4
NOT_FOUND = 5
ALREADY_EXISTS = 6
PERMISSION_DENIED = 7
RESOURCE_EXHAUSTED = 8
FAILED_PRECONDITION = 9
ABORTED = 10
OUT_OF_RANGE = 11
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14
DATA_LOSS = 15
UNAUTHENTICATED = 16


class OpError(Exception):
    """A failed operation.  `.op` is the `Operation` that failed (or None)."""

    error_code = UNKNOWN

    def __init__(self, node_def, op, message, error_code=None, *args):
        super().__init__(message)
        self._node_def = node_def
        self._op = op
        self._message = message
        if error_code is not None:
            self.error_code = error_code

    @property
    def message(self):
        return self._message

    @property
    def op(self):
        return self._op

    @property
    def node_def(self):
        return self._node_def

    def __str__(self):
        return self._message

    def __reduce__(self):
        return (type(self), (None, None, self._message))


def _subclass(name, code, doc):
    def __init__(self, node_def, op, message, *args):
        OpError.__init__(self, node_def, op, message, code)
    return type(name, (OpError,), {"__init__": __init__, "error_code": code,
                                   "__doc__": doc})


CancelledError = _subclass("CancelledError", CANCELLED, "An operation or step was cancelled (e.g. the session closed).")
UnknownError = _subclass("UnknownError", UNKNOWN, "An unknown error.")
InvalidArgumentError = _subclass("InvalidArgumentError", INVALID_ARGUMENT, "An op received an invalid argument.")
DeadlineExceededError = _subclass("DeadlineExceededError", DEADLINE_EXCEEDED, "A deadline expired before the operation completed.")
NotFoundError = _subclass("NotFoundError", NOT_FOUND, "A requested entity (file, variable, ...) was not found.")
AlreadyExistsError = _subclass("AlreadyExistsError", ALREADY_EXISTS, "An entity we tried to create already exists.")
PermissionDeniedError = _subclass("PermissionDeniedError", PERMISSION_DENIED, "The caller lacks permission.")
UnauthenticatedError = _subclass("UnauthenticatedError", UNAUTHENTICATED, "The request lacks valid credentials.")
ResourceExhaustedError = _subclass("ResourceExhaustedError", RESOURCE_EXHAUSTED, "Some resource has been exhausted.")
FailedPreconditionError = _subclass("FailedPreconditionError", FAILED_PRECONDITION, "The system is not in a state to run the op (e.g. an uninitialized variable).")
AbortedError = _subclass("AbortedError", ABORTED, "The operation was aborted.")
OutOfRangeError = _subclass("OutOfRangeError", OUT_OF_RANGE, "Iteration past the valid range (e.g. a closed, empty queue).")
UnimplementedError = _subclass("UnimplementedError", UNIMPLEMENTED, "The operation is not implemented.")
InternalError = _subclass("InternalError", INTERNAL, "An internal invariant was broken.")
UnavailableError = _subclass("UnavailableError", UNAVAILABLE, "The runtime is currently unavailable.")
DataLossError = _subclass("DataLossError", DATA_LOSS, "Unrecoverable data loss or corruption.")

_CODE_TO_CLASS = {cls.error_code: cls for cls in (
    CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError,
    NotFoundError, AlreadyExistsError, PermissionDeniedError,
    UnauthenticatedError, ResourceExhaustedError, FailedPreconditionError,
    AbortedError, OutOfRangeError, UnimplementedError, InternalError,
    UnavailableError, DataLossError)}


def exception_type_from_error_code(code):
    return _CODE_TO_CLASS[code]


def error_code_from_exception_type(cls):
    return cls.error_code


def wrap_kernel_error(exc, op):
    """Turn a kernel's exception into the `OpError` the caller sees.

    An `OpError` gains the op if it lacks one.  Plain Python exceptions are
    mapped to TF's nearest class (ValueError/TypeError/IndexError ->
    InvalidArgumentError, FileNotFoundError -> NotFoundError, ...) with a
    message that names the op; the original is kept as `__cause__`.
    """
    name = op.name if op is not None else "?"
    if isinstance(exc, OpError):
        if exc._op is None:
            exc._op = op
        return exc
    if isinstance(exc, FileNotFoundError):
        cls = NotFoundError
    elif isinstance(exc, PermissionError):
        cls = PermissionDeniedError
    elif isinstance(exc, (ValueError, TypeError, IndexError, KeyError,
                          ZeroDivisionError, ArithmeticError)):
        cls = InvalidArgumentError
    elif isinstance(exc, MemoryError):
        cls = ResourceExhaustedError
    else:
        cls = UnknownError
    detail = str(exc) or type(exc).__name__
    err = cls(None, op, "%s (op '%s', type %s): %s" % (
        type(exc).__name__, name, getattr(op, "type", "?"), detail))
    err.__cause__ = exc
    return err


def raise_exception_on_not_ok_status():  # TF1 context manager, kept for compat
    import contextlib
    return contextlib.nullcontext()
