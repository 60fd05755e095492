"""Releasing what a finished fit leaves behind: traced graphs, custom gradients.

Shared by the estimators (one fit per ``fit()``) and the tuners (one fit per
trial). On the TensorFlow backend, each fit traces train/test/predict graphs
that TensorFlow does not free on its own (see :func:`release_traced_graphs`),
and registers ``tf.custom_gradient`` functions in a process-wide registry that
is never emptied (see :func:`forget_custom_gradients`). Without both, every
fit kept about 2 MB (estimators) or 8 MB per search (tuners) alive. On other
backends these functions do nothing.
"""

from __future__ import annotations

import contextlib
import gc
import types
from collections.abc import Iterator
from typing import Any

from tunekit._seeding import tf_module

__all__ = [
    "custom_gradient_names",
    "forget_custom_gradients",
    "frozen_heap",
    "release_traced_graphs",
]


def _polymorphic_functions(function: Any, depth: int = 0) -> Iterator[Any]:
    """Yield the ``tf.function`` objects a Keras train/test/predict function uses.

    Keras wraps its ``tf.function`` objects in plain Python closures
    (``multi_step_on_iterator`` calling ``one_step_on_data``), so the closures
    are walked, a few levels deep.
    """
    tf = tf_module()
    if tf is None or depth > 4:
        return
    if isinstance(function, tf.types.experimental.PolymorphicFunction):
        yield function
        function = getattr(function, "_python_function", None)
    if not isinstance(function, types.FunctionType):
        return
    for cell in function.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:  # empty cell
            continue
        if isinstance(
            value, (types.FunctionType, tf.types.experimental.PolymorphicFunction)
        ):
            yield from _polymorphic_functions(value, depth + 1)


def release_traced_graphs(model: Any) -> None:
    """Free the TensorFlow graphs traced for ``model``'s train/test/predict steps.

    TensorFlow frees a traced ``FuncGraph`` through a deleter owned by its
    ``ConcreteFunction``; for functions traced by an ordinary call (Keras'
    ``one_step_on_data`` inside ``multi_step_on_iterator``) that deleter is
    switched off, and the graph's Python objects form cycles through C++
    objects that ``gc`` cannot traverse. Together with the custom-gradient
    registry (see :func:`forget_custom_gradients`) this kept every fit's
    graphs, their operations and the functions they register in the eager
    context alive. Only graphs whose deleter is switched off are dismantled;
    the others are freed by TensorFlow itself. The model's step functions are
    set to None: Keras traces them again when they are needed.
    """
    tf = tf_module()
    if tf is None:
        return
    try:
        from tensorflow.python.framework import func_graph as func_graph_module
    except ImportError:  # pragma: no cover - private API moved
        return
    for attribute in ("train_function", "test_function", "predict_function"):
        function = getattr(model, attribute, None)
        if function is None:
            continue
        for polymorphic in _polymorphic_functions(function):
            lister = getattr(polymorphic, "_list_all_concrete_functions", None)
            if lister is None:
                continue
            for concrete in lister():
                collector = getattr(concrete, "_garbage_collector", None)
                if collector is not None and getattr(collector, "_func_graph", None):
                    continue  # TensorFlow will dismantle this one itself
                with contextlib.suppress(Exception):
                    func_graph_module.dismantle_func_graph(concrete.graph)
        with contextlib.suppress(AttributeError):
            setattr(model, attribute, None)


def custom_gradient_names() -> set[str] | None:
    """Names in TensorFlow's gradient registry made by ``tf.custom_gradient``."""
    if tf_module() is None:
        return None
    try:
        from tensorflow.python.framework import ops
    except ImportError:  # pragma: no cover - private API moved
        return None
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):
        return None
    return {name for name in registry if str(name).startswith("CustomGradient-")}


def forget_custom_gradients(before: set[str] | None) -> None:
    """Unregister the custom gradients registered since ``before`` was taken.

    Tracing an op wrapped in ``tf.custom_gradient`` (Keras' TensorFlow
    backend uses some in its train step) registers a gradient function under
    a fresh ``CustomGradient-<uid>`` name in a process-wide registry and never
    removes it. The function's closure holds tensors of the traced graph, so
    every fit kept its whole train-step graph alive (about 2 MB for a small
    dense model). Once the fit is over and its step functions are discarded,
    nothing looks those names up again.
    """
    if before is None:
        return
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry
    for name in [n for n in list(registry) if n not in before]:
        if str(name).startswith("CustomGradient-"):
            registry.pop(name, None)


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep ``gc.collect()`` from re-scanning every object that existed before.

    ``keras.backend.clear_session()`` runs a full ``gc.collect()``, and a
    process with TensorFlow or JAX and Keras imported tracks millions of
    objects: each collection took about 0.45 s on a 2-core machine, once or
    twice per trial. Inside this context the objects that existed when it was
    entered sit in ``gc``'s permanent generation, so collections scan only
    what was created since (the trials' models and graphs, which are still
    collected). On exit they are moved back and collected as usual. Nothing
    happens when something else (a server that forked workers, say) already
    froze the heap.
    """
    if gc.get_freeze_count() or not gc.isenabled():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
