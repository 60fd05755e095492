"""A KerasTuner hypermodel for image classification CNNs.

:func:`build_cnn_hypermodel` returns a :class:`CNNHyperModel`, a
``keras_tuner.HyperModel`` whose ``build(hp)`` returns a compiled
``keras.Model``. Everything that can be checked without training is checked
when the hypermodel is constructed:

- the head, loss and accuracy metric follow from ``num_classes`` and
  ``label_mode``, so they can never disagree with each other;
- the depth of the default search space is capped by ``input_shape``, so no
  sampled configuration shrinks the feature map below 1x1;
- ``space=`` overrides are converted to KerasTuner hyperparameters and
  validated (unknown names, impossible values) before any model is built.

The module imports Keras and KerasTuner, so ``tunekit`` loads it lazily.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import keras
import keras_tuner

from tunekit._constraints import (
    Interval,
    Options,
    Rule,
    Satisfies,
    declare_constraints,
    validate_params,
)
from tunekit._errors import InvalidParameterError
from tunekit._validation import check_in, did_you_mean, invalid_parameter, received

__all__ = ["CNNHyperModel", "build_cnn_hypermodel"]

PRESETS = ("default", "dense_head", "two_conv")
LABEL_MODES = ("int", "categorical", "binary")
PADDINGS = ("same", "valid")
#: Keras dtype policies ``dtype_policy=`` accepts (None: Keras' global policy).
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
POOLINGS = ("max", "avg")
AUGMENTATIONS = ("flip", "rotation", "zoom", "translation", "contrast")
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
SAMPLINGS = ("linear", "log", "reverse_log")

#: Deepest stack the default preset ever searches (further capped by input size).
MAX_CONV_BLOCKS = 4
#: Augmentation used for ``augment=True``.
DEFAULT_AUGMENTATION = {"flip": "horizontal", "rotation": 0.1, "zoom": 0.1}
#: Feature maps at most this many pixels (h * w) are flattened, larger ones
#: are globally average-pooled (default preset only).
_FLATTEN_MAX_AREA = 64


# --------------------------------------------------------------------------
# Search-space specification
# --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Spec:
    """One hyperparameter: the KerasTuner method and its arguments.

    ``domain`` says which values make sense (used to validate overrides):
    ``"blocks"``, ``"positive_int"``, ``"rate"`` (0 <= x < 1),
    ``"positive_float"``, ``"bool"`` or ``"enum"`` (one of ``allowed``).
    """

    name: str
    method: str  # "Int", "Float", "Choice", "Boolean" or "Fixed"
    kwargs: Mapping[str, Any]
    domain: str
    allowed: tuple[Any, ...] = ()

    def register(self, hp: keras_tuner.HyperParameters) -> Any:
        """Register in ``hp`` (or read the value already there) and return it."""
        return getattr(hp, self.method)(self.name, **self.kwargs)

    @property
    def default(self) -> Any:
        hp = keras_tuner.HyperParameters()
        return self.register(hp)

    def describe(self) -> str:
        """Human-readable range, e.g. ``"Int 64..512 step 32"``."""
        kw = self.kwargs
        if self.method in ("Int", "Float"):
            text = f"{self.method} {kw['min_value']}..{kw['max_value']}"
            if kw.get("step") is not None:
                text += f" step {kw['step']}"
            if kw.get("sampling", "linear") != "linear":
                text += f" ({kw['sampling']})"
            return text
        if self.method == "Choice":
            return "Choice " + ", ".join(repr(v) for v in kw["values"])
        if self.method == "Boolean":
            return "Boolean"
        return f"Fixed {kw['value']!r}"


def _int(name, lo, hi, step=None, default=None, domain="positive_int"):
    kwargs = {"min_value": lo, "max_value": hi, "step": step, "default": default}
    return _Spec(name, "Int", kwargs, domain)


def _float(name, lo, hi, step=None, sampling="linear", default=None, domain="rate"):
    kwargs = {
        "min_value": lo,
        "max_value": hi,
        "step": step,
        "sampling": sampling,
        "default": default,
    }
    return _Spec(name, "Float", kwargs, domain)


def _choice(name, values, default=None, domain="enum", allowed=()):
    kwargs = {"values": list(values), "default": default}
    return _Spec(name, "Choice", kwargs, domain, tuple(allowed))


def _learning_rate() -> _Spec:
    """Log-sampled 1e-4..1e-2, default 1e-3 (the default and dense_head presets)."""
    return _float(
        "learning_rate",
        1e-4,
        1e-2,
        sampling="log",
        default=1e-3,
        domain="positive_float",
    )


def _default_space(max_blocks: int) -> dict[str, _Spec]:
    blocks = _int(
        "conv_blocks", 1, max_blocks, default=min(2, max_blocks), domain="blocks"
    )
    space = {"conv_blocks": blocks}
    for i in range(1, max_blocks + 1):
        default = min(32 * 2 ** (i - 1), 128)
        space[f"filters_{i}"] = _int(f"filters_{i}", 16, 128, step=16, default=default)
    space.update(
        {
            "kernel_size": _choice("kernel_size", [3, 5], 3, domain="positive_int"),
            "batch_norm": _Spec("batch_norm", "Boolean", {"default": False}, "bool"),
            "pooling": _choice("pooling", POOLINGS, "max", allowed=POOLINGS),
            "dense_units": _int("dense_units", 32, 256, step=32, default=128),
            "dropout": _float("dropout", 0.0, 0.5, step=0.1, default=0.2),
            "optimizer": _choice("optimizer", OPTIMIZERS, "adam", allowed=OPTIMIZERS),
            "learning_rate": _learning_rate(),
        }
    )
    return space


def _dense_head_space() -> dict[str, _Spec]:
    # adabyt/cnn-keras-tuning-fashion-mnist (README "Model & Tuning Details").
    return {
        # The ranges are the seed's; the defaults, a known-good model, are
        # what initial_trials="defaults" trains first.
        "dense_units": _int("dense_units", 64, 512, step=32, default=128),
        "dropout": _float("dropout", 0.1, 0.5, step=0.1, default=0.2),
        "learning_rate": _learning_rate(),
        "optimizer": _choice(
            "optimizer",
            ["adam", "rmsprop"],
            "adam",
            allowed=("adam", "rmsprop", "sgd"),
        ),
    }


def _two_conv_space() -> dict[str, _Spec]:
    # The "Hyperband with DirectoryIterator" seed: hp.Int / hp.Choice verbatim.
    return {
        "conv_1_filters": _int("conv_1_filters", 32, 128, step=32),
        "conv_1_kernel": _choice("conv_1_kernel", [3, 5], domain="positive_int"),
        "conv_2_filters": _int("conv_2_filters", 64, 256, step=64),
        "conv_2_kernel": _choice("conv_2_kernel", [3, 5], domain="positive_int"),
        "dense_units": _int("dense_units", 64, 512, step=64, default=128),
        "learning_rate": _choice(
            "learning_rate", [1e-2, 1e-3, 1e-4], 1e-3, domain="positive_float"
        ),
    }


# --------------------------------------------------------------------------
# Validation helpers
# --------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_input_shape(input_shape: Any) -> tuple[int, int, int]:
    expected = "a tuple of 3 positive integers (height, width, channels)"
    if isinstance(input_shape, (str, bytes)) or not hasattr(input_shape, "__len__"):
        raise invalid_parameter("input_shape", input_shape, expected)
    shape = tuple(input_shape)
    if len(shape) == 2 and all(_is_int(d) and d > 0 for d in shape):
        raise invalid_parameter(
            "input_shape",
            input_shape,
            expected,
            f"Add the channel axis: for grayscale images use {(*shape, 1)}.",
        )
    if len(shape) != 3 or not all(_is_int(d) and d > 0 for d in shape):
        hint = ""
        if len(shape) == 4:
            hint = "Leave out the batch axis."
        elif any(d is None for d in shape):
            hint = "The spatial size must be known to cap the network's depth."
        raise invalid_parameter("input_shape", input_shape, expected, hint)
    return (int(shape[0]), int(shape[1]), int(shape[2]))


def _check_head(num_classes: Any, label_mode: Any) -> None:
    if label_mode == "binary" and num_classes != 2:
        raise InvalidParameterError(
            "`label_mode='binary'` needs exactly 2 classes (one sigmoid unit), "
            f"but num_classes={num_classes}. Use label_mode='int' for integer "
            "labels or 'categorical' for one-hot labels. "
            f"Received: label_mode='binary', num_classes={num_classes}"
        )


def _rescale_pair(rescale: Any) -> tuple[float, float] | None:
    """``(scale, offset)`` of a valid non-None ``rescale``, else None."""
    if _is_number(rescale) and math.isfinite(rescale) and rescale != 0:
        return (float(rescale), 0.0)
    if (
        isinstance(rescale, tuple)
        and len(rescale) == 2
        and all(_is_number(v) and math.isfinite(v) for v in rescale)
        and rescale[0] != 0
    ):
        return (float(rescale[0]), float(rescale[1]))
    return None


#: The hypermodel's simple parameters (``validate_params``); ``input_shape``
#: (hints that depend on the shape) and the entries of ``space`` and
#: ``augment`` have their own checks.
CNN_CONSTRAINTS: dict[str, Any] = {
    "num_classes": Rule(
        [Interval(numbers.Integral, 2, None, closed="left")],
        "an integer >= 2",
        hint="A classifier needs at least two classes.",
    ),
    "label_mode": [Options(LABEL_MODES)],
    "preset": [Options(PRESETS)],
    "space": Rule(
        [Mapping, None], "None or a dict mapping hyperparameter names to ranges/choices"
    ),
    "rescale": Rule(
        [Satisfies(_rescale_pair, "a (scale, offset)", invalid=[0, (0, 1)]), None],
        "None, a non-zero number (e.g. 1/255) or a (scale, offset) tuple",
        hint="Inputs are multiplied by scale, then offset is added.",
    ),
    "augment": Rule(
        [bool, Mapping, None],
        "None, True or a dict such as "
        "{'flip': 'horizontal', 'rotation': 0.1, 'zoom': 0.1}",
    ),
    "padding": [Options(PADDINGS)],
    "name": [str, None],
    "dtype_policy": [Options(DTYPE_POLICIES), None],
}


def _check_augment(augment: Any) -> dict[str, Any]:
    if augment is None or augment is False:
        return {}
    if augment is True:
        return dict(DEFAULT_AUGMENTATION)
    result = {}
    for key, value in augment.items():
        if key not in AUGMENTATIONS:
            raise InvalidParameterError(
                f"Unknown augmentation {key!r} in `augment`; valid keys are "
                f"{', '.join(AUGMENTATIONS)}.{did_you_mean(key, AUGMENTATIONS)} "
                f"{received('augment', augment)}"
            )
        if key == "flip":
            if value not in FLIP_MODES:
                raise invalid_parameter(
                    "augment['flip']", value, f"one of {', '.join(FLIP_MODES)}"
                )
        elif not (_is_number(value) and 0 < value < 1):
            raise invalid_parameter(
                f"augment[{key!r}]",
                value,
                "a number strictly between 0 and 1 (a fraction)",
            )
        result[key] = value
    return result


def _max_blocks(size: int, kernel: int, padding: str) -> int:
    """Number of conv + 2x2-pool blocks that keep a ``size`` side >= 1 pixel."""
    blocks = 0
    while True:
        after_conv = size if padding == "same" else size - kernel + 1
        if after_conv < 2:  # a 2x2 pooling needs at least 2 pixels
            return blocks
        size = after_conv // 2
        blocks += 1


def _min_side(blocks: int, kernel: int, padding: str) -> int:
    """Smallest side that survives ``blocks`` conv + pool blocks."""
    side = 1
    while _max_blocks(side, kernel, padding) < blocks:
        side += 1
    return side


# --------------------------------------------------------------------------
# ``space=`` overrides
# --------------------------------------------------------------------------


def _value_error(name: str, value: Any, spec: _Spec, max_blocks: int) -> str | None:
    """Return what is wrong with ``value`` for hyperparameter ``spec``, or None."""
    domain = spec.domain
    if domain == "blocks":
        if not _is_int(value) or not 1 <= value <= max_blocks:
            return f"an integer between 1 and {max_blocks} for this input_shape"
    elif domain == "positive_int":
        if not _is_int(value) or value < 1:
            return "a positive integer"
    elif domain == "rate":
        if not _is_number(value) or not 0 <= value < 1:
            return "a number in [0, 1)"
    elif domain == "positive_float":
        if not _is_number(value) or not (value > 0 and math.isfinite(value)):
            return "a positive number"
    elif domain == "bool":
        if not isinstance(value, bool):
            return "True or False"
    elif value not in spec.allowed:
        return "one of " + ", ".join(repr(a) for a in spec.allowed)
    return None


def _override_error(name: str, value: Any, expected: str) -> InvalidParameterError:
    return InvalidParameterError(
        f"space[{name!r}] must be {expected}. A tuple is a range "
        "(low, high[, step or 'log']), a list is a choice, a single value is "
        f"fixed. Received: space[{name!r}]={value!r}"
    )


def _override(spec: _Spec, value: Any, max_blocks: int) -> _Spec:
    """Turn one ``space=`` entry into a :class:`_Spec` (validated)."""
    name = spec.name
    floaty = spec.domain in ("rate", "positive_float")

    def check(item: Any) -> Any:
        problem = _value_error(name, item, spec, max_blocks)
        if problem:
            raise _override_error(name, value, f"made of values that are {problem}")
        return float(item) if floaty else item

    if isinstance(value, tuple):
        if spec.domain in ("enum", "bool"):
            raise _override_error(name, value, "a list of choices or a single value")
        if len(value) not in (2, 3):
            raise _override_error(name, value, "a (low, high[, step or 'log']) tuple")
        low, high = check(value[0]), check(value[1])
        if not low < high:
            raise _override_error(
                name, value, "a range with low < high (use a scalar to fix a value)"
            )
        step, sampling = None, "linear"
        if len(value) == 3:
            extra = value[2]
            if isinstance(extra, str):
                if extra not in SAMPLINGS:
                    raise _override_error(
                        name, value, f"a range whose sampling is one of {SAMPLINGS}"
                    )
                sampling = extra
            elif _is_number(extra) and extra > 0 and (floaty or _is_int(extra)):
                step = extra
            else:
                raise _override_error(
                    name, value, "a range whose third item is a positive step or 'log'"
                )
        if sampling != "linear" and low <= 0:
            raise _override_error(name, value, "a range with low > 0 for log sampling")
        default = spec.default
        if not (_is_number(default) and low <= default <= high):
            default = None
        if floaty:
            return _float(name, low, high, step, sampling, default, spec.domain)
        kwargs = {
            "min_value": low,
            "max_value": high,
            "step": step,
            "sampling": sampling,
            "default": default,
        }
        return _Spec(name, "Int", kwargs, spec.domain, spec.allowed)
    if isinstance(value, list):
        if not value:
            raise _override_error(name, value, "a non-empty list")
        values = [check(v) for v in value]
        if len(set(values)) != len(values):
            raise _override_error(name, value, "a list without duplicates")
        default = spec.default if spec.default in values else values[0]
        if spec.domain == "bool":  # KerasTuner's Choice turns bools into ints
            if len(values) == 1:
                return _Spec(name, "Fixed", {"value": values[0]}, spec.domain)
            return _Spec(name, "Boolean", {"default": default}, spec.domain)
        return _Spec(
            name,
            "Choice",
            {"values": values, "default": default},
            spec.domain,
            spec.allowed,
        )
    if isinstance(value, (str, bool, numbers.Real)):
        return _Spec(name, "Fixed", {"value": check(value)}, spec.domain, spec.allowed)
    raise _override_error(name, value, "a tuple, a list or a single value")


def _block_index(name: str) -> int | None:
    """``k`` for a per-block hyperparameter ``filters_k``, else None."""
    prefix, _, number = name.rpartition("_")
    if prefix == "filters" and number.isdigit():
        return int(number)
    return None


def _possible_values(spec: _Spec) -> list[Any]:
    """Every value an integer spec can take (for conditional scopes)."""
    kw = spec.kwargs
    if spec.method == "Int":
        step = kw.get("step") or 1
        return list(range(int(kw["min_value"]), int(kw["max_value"]) + 1, int(step)))
    return _values_of(spec)


def _values_of(spec: _Spec) -> list[Any]:
    """Lowest and highest value a spec can produce (all values for choices)."""
    kw = spec.kwargs
    if spec.method in ("Int", "Float"):
        return [kw["min_value"], kw["max_value"]]
    if spec.method == "Choice":
        return list(kw["values"])
    if spec.method == "Fixed":
        return [kw["value"]]
    return [False, True]


# --------------------------------------------------------------------------
# The hypermodel
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _global_dtype_policy(policy: str | None) -> Iterator[None]:
    """Keras' global dtype policy set to ``policy`` inside, restored on exit.

    A policy set with ``keras.mixed_precision.set_global_policy`` before a
    search is lost at the first trial (``clear_session()`` resets it), so
    the hypermodel sets it around each build instead.
    """
    if policy is None:
        yield
        return
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


class CNNHyperModel(keras_tuner.HyperModel):
    """A tunable image-classification CNN (see :func:`build_cnn_hypermodel`).

    Parameters
    ----------
    input_shape, num_classes, label_mode, preset, space, rescale, augment, \
padding, name
        See :func:`build_cnn_hypermodel`, which is the preferred constructor.

    Attributes
    ----------
    search_space : dict
        Hyperparameter name -> human-readable range, in registration order.
    max_conv_blocks : int
        How many conv + pool blocks ``input_shape`` allows (default preset).

    Examples
    --------
    >>> import keras_tuner
    >>> from tunekit import CNNHyperModel
    >>> hypermodel = CNNHyperModel((8, 8, 1), num_classes=10, preset="two_conv")
    >>> hypermodel.defaults["conv_2_filters"]
    64
    >>> model = hypermodel.build(keras_tuner.HyperParameters())
    >>> model.output_shape
    (None, 10)
    """

    _parameter_constraints: ClassVar[dict[str, Any]] = CNN_CONSTRAINTS

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        num_classes: int,
        *,
        label_mode: str = "int",
        preset: str = "default",
        space: Mapping[str, Any] | None = None,
        rescale: float | tuple[float, float] | None = None,
        augment: bool | Mapping[str, Any] | None = None,
        padding: str = "same",
        name: str | None = None,
        dtype_policy: str | None = None,
    ) -> None:
        shape = _check_input_shape(input_shape)
        validate_params(
            CNN_CONSTRAINTS,
            {
                "num_classes": num_classes,
                "label_mode": label_mode,
                "preset": preset,
                "space": space,
                "rescale": rescale,
                "augment": augment,
                "padding": padding,
                "name": name,
                "dtype_policy": dtype_policy,
            },
        )
        _check_head(num_classes, label_mode)
        super().__init__(name=name or f"cnn_{preset}", tunable=True)
        self.input_shape = shape
        self.num_classes = int(num_classes)
        self.label_mode = label_mode
        self.preset = preset
        self.padding = padding
        self.dtype_policy = dtype_policy
        self._rescale = None if rescale is None else _rescale_pair(rescale)
        self._augment = _check_augment(augment)
        self._specs = self._build_specs(dict(space or {}))

    # -- construction-time checks ------------------------------------------

    def _build_specs(self, space: dict[str, Any]) -> dict[str, _Spec]:
        side = min(self.input_shape[:2])
        if self.preset == "default":
            kernel_spec = _default_space(1)["kernel_size"]
            if "kernel_size" in space:
                kernel_spec = _override(kernel_spec, space["kernel_size"], 0)
            kernel = max(_values_of(kernel_spec))
            self.max_conv_blocks = _max_blocks(side, kernel, self.padding)
            if self.max_conv_blocks < 1:
                self._raise_too_small(1, kernel)
            blocks_spec = _default_space(min(MAX_CONV_BLOCKS, self.max_conv_blocks))[
                "conv_blocks"
            ]
            if "conv_blocks" in space:
                blocks_spec = _override(
                    blocks_spec, space["conv_blocks"], self.max_conv_blocks
                )
            specs = _default_space(max(_values_of(blocks_spec)))
            specs["conv_blocks"] = blocks_spec
            specs["kernel_size"] = kernel_spec
        elif self.preset == "dense_head":
            specs = _dense_head_space()
        else:
            specs = _two_conv_space()
        for key, value in space.items():
            if key not in specs:
                raise InvalidParameterError(
                    f"Unknown hyperparameter {key!r} in `space` for "
                    f"preset={self.preset!r}.{did_you_mean(key, specs)} Valid names: "
                    f"{', '.join(specs)}. Received: space={space!r}"
                )
            if key not in ("conv_blocks", "kernel_size"):
                specs[key] = _override(specs[key], value, 0)
        if self.preset != "default":
            kernel = 3
            if self.preset == "two_conv":
                kernel = max(
                    *_values_of(specs["conv_1_kernel"]),
                    *_values_of(specs["conv_2_kernel"]),
                )
            self.max_conv_blocks = _max_blocks(side, kernel, self.padding)
            if self.max_conv_blocks < 2:
                self._raise_too_small(2, kernel)
        return specs

    def _raise_too_small(self, blocks: int, kernel: int) -> None:
        need = _min_side(blocks, kernel, self.padding)
        hint = " or use padding='same'" if self.padding == "valid" else ""
        raise InvalidParameterError(
            f"`input_shape` is too small for preset={self.preset!r} with "
            f"padding={self.padding!r}: {blocks} conv block(s) with kernel size "
            f"{kernel} and 2x2 pooling need images of at least {need}x{need} "
            f"pixels. Resize the images{hint}. "
            f"{received('input_shape', self.input_shape)}"
        )

    # -- introspection -------------------------------------------------------

    @property
    def search_space(self) -> dict[str, str]:
        """Hyperparameter name -> human-readable range, e.g. ``'Int 1..3'``."""
        return {name: spec.describe() for name, spec in self._specs.items()}

    @property
    def defaults(self) -> dict[str, Any]:
        """Hyperparameter name -> the value ``build`` uses when nothing is set."""
        return dict(self.hyperparameters.values)

    @property
    def hyperparameters(self) -> keras_tuner.HyperParameters:
        """A fresh ``keras_tuner.HyperParameters`` holding the whole space.

        Pass it to a tuner (``hyperparameters=``) or read ``.space`` and
        ``.values``; building a model is not needed.
        """
        hp = keras_tuner.HyperParameters()
        self.declare_hyperparameters(hp)
        return hp

    def declare_hyperparameters(self, hp: keras_tuner.HyperParameters) -> dict:
        """Register every hyperparameter in ``hp``; return ``{name: value}``.

        Values already present in ``hp`` (set by a tuner, by ``hp.Fixed`` or
        by assigning ``hp.values[name]``) are kept. In the default preset,
        ``filters_k`` is registered in a KerasTuner conditional scope, active
        only when ``conv_blocks >= k``: it is part of ``hp.space`` but has no
        value (``None`` here, absent from ``hp.values``) while inactive, so
        the oracles never sample it and trials never record phantom values.
        """
        values = {}
        for name, spec in self._specs.items():
            parents = self._active_for(name)
            if parents is None:
                values[name] = spec.register(hp)
                continue
            with hp.conditional_scope("conv_blocks", parents):
                values[name] = spec.register(hp)
        return values

    def _active_for(self, name: str) -> list[int] | None:
        """The ``conv_blocks`` values that use hyperparameter ``name`` (or None).

        ``None`` means "always active": every hyperparameter except the
        per-block ones of the default preset.
        """
        block = _block_index(name)
        if self.preset != "default" or block is None:
            return None
        blocks = _possible_values(self._specs["conv_blocks"])
        return [value for value in blocks if value >= block]

    # -- building ------------------------------------------------------------

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Build and compile one model for the values in ``hp``.

        With ``dtype_policy``, every layer but the output one is built under
        that policy (the output layer, hence the loss and the objective, stays
        ``float32``); Keras' global policy is left as it was.
        """
        with _global_dtype_policy(self.dtype_policy):
            return self._build_model(hp)

    def _build_model(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        values = self.declare_hyperparameters(hp)
        inputs = keras.Input(shape=self.input_shape, name="image")
        x = self._preprocess(inputs)
        if self.preset == "default":
            x = self._default_body(x, values, hp)
        elif self.preset == "dense_head":
            x = self._fixed_body(x, [(32, 3), (64, 3)])
        else:
            x = self._fixed_body(
                x,
                [
                    (values["conv_1_filters"], values["conv_1_kernel"]),
                    (values["conv_2_filters"], values["conv_2_kernel"]),
                ],
            )
        x = keras.layers.Dense(values["dense_units"], activation="relu", name="dense")(
            x
        )
        if "dropout" in values:
            x = keras.layers.Dropout(values["dropout"], name="dropout")(x)
        outputs = self._head(x)
        model = keras.Model(inputs, outputs, name=self.name)
        optimizer = _make_optimizer(
            values.get("optimizer", "adam"), values["learning_rate"]
        )
        loss, metric = self._loss_and_metric()
        model.compile(optimizer=optimizer, loss=loss, metrics=[metric])
        return model

    def _preprocess(self, x: Any) -> Any:
        if self._rescale is not None:
            scale, offset = self._rescale
            x = keras.layers.Rescaling(scale, offset, name="rescale")(x)
        aug = self._augment
        if "flip" in aug:
            x = keras.layers.RandomFlip(aug["flip"], name="random_flip")(x)
        if "rotation" in aug:
            x = keras.layers.RandomRotation(aug["rotation"], name="random_rotation")(x)
        if "zoom" in aug:
            x = keras.layers.RandomZoom(aug["zoom"], name="random_zoom")(x)
        if "translation" in aug:
            t = aug["translation"]
            x = keras.layers.RandomTranslation(t, t, name="random_translation")(x)
        if "contrast" in aug:
            x = keras.layers.RandomContrast(aug["contrast"], name="random_contrast")(x)
        return x

    def _default_body(self, x: Any, values: dict, hp: Any) -> Any:
        kernel = values["kernel_size"]
        batch_norm = values["batch_norm"]
        pool = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}
        for i in range(1, values["conv_blocks"] + 1):
            filters = values.get(f"filters_{i}")
            if filters is None:  # a caller fixed conv_blocks outside the space
                spec = self._specs.get(f"filters_{i}") or _int(
                    f"filters_{i}", 16, 128, step=16, default=64
                )
                filters = spec.register(hp)  # unconditional: this model uses it
            x = keras.layers.Conv2D(
                filters,
                kernel,
                padding=self.padding,
                activation=None if batch_norm else "relu",
                use_bias=not batch_norm,
                name=f"conv_{i}",
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
                x = keras.layers.Activation("relu", name=f"relu_{i}")(x)
            if min(x.shape[1], x.shape[2]) >= 2:
                x = pool[values["pooling"]](2, name=f"pool_{i}")(x)
        if x.shape[1] * x.shape[2] <= _FLATTEN_MAX_AREA:
            return keras.layers.Flatten(name="flatten")(x)
        return keras.layers.GlobalAveragePooling2D(name="global_pool")(x)

    def _fixed_body(self, x: Any, blocks: list[tuple[int, int]]) -> Any:
        for i, (filters, kernel) in enumerate(blocks, start=1):
            x = keras.layers.Conv2D(
                filters,
                kernel,
                padding=self.padding,
                activation="relu",
                name=f"conv_{i}",
            )(x)
            x = keras.layers.MaxPooling2D(2, name=f"pool_{i}")(x)
        return keras.layers.Flatten(name="flatten")(x)

    def _head(self, x: Any) -> Any:
        # full precision for the probabilities, the loss and the objective
        dtype = None if self.dtype_policy is None else "float32"
        if self.label_mode == "binary":
            return keras.layers.Dense(
                1, activation="sigmoid", name="output", dtype=dtype
            )(x)
        return keras.layers.Dense(
            self.num_classes, activation="softmax", name="output", dtype=dtype
        )(x)

    def _loss_and_metric(self) -> tuple[Any, Any]:
        if self.label_mode == "binary":
            return (
                keras.losses.BinaryCrossentropy(),
                keras.metrics.BinaryAccuracy(name="accuracy"),
            )
        if self.label_mode == "categorical":
            return (
                keras.losses.CategoricalCrossentropy(),
                keras.metrics.CategoricalAccuracy(name="accuracy"),
            )
        return (
            keras.losses.SparseCategoricalCrossentropy(),
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
        )

    def __repr__(self) -> str:
        return (
            f"CNNHyperModel(input_shape={self.input_shape}, "
            f"num_classes={self.num_classes}, label_mode={self.label_mode!r}, "
            f"preset={self.preset!r})"
        )


_OPTIMIZERS: dict[str, Callable[[float], Any]] = {
    "adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
    "rmsprop": lambda lr: keras.optimizers.RMSprop(learning_rate=lr),
    "sgd": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
}


def _make_optimizer(name: str, learning_rate: float) -> Any:
    return _OPTIMIZERS[check_in("optimizer", name, OPTIMIZERS)](float(learning_rate))


@declare_constraints(CNN_CONSTRAINTS)
def build_cnn_hypermodel(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    label_mode: str = "int",
    preset: str = "default",
    space: Mapping[str, Any] | None = None,
    rescale: float | tuple[float, float] | None = None,
    augment: bool | Mapping[str, Any] | None = None,
    padding: str = "same",
    name: str | None = None,
    dtype_policy: str | None = None,
) -> CNNHyperModel:
    """Return a KerasTuner hypermodel of an image-classification CNN.

    ``hypermodel.build(hp)`` returns a compiled ``keras.Model`` whose head,
    loss and accuracy metric match ``num_classes`` and ``label_mode``. The
    accuracy is always logged as ``accuracy`` / ``val_accuracy``, so
    ``objective="val_accuracy"`` is always valid. Every argument is checked
    here, before any model is built.

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, channels)`` of one image (channels last).
    num_classes : int
        Number of classes, at least 2.
    label_mode : {"int", "categorical", "binary"}, default="int"
        How labels are encoded. ``"int"``: integer labels, softmax and sparse
        categorical cross-entropy. ``"categorical"``: one-hot labels, softmax
        and categorical cross-entropy. ``"binary"`` (``num_classes == 2``):
        0/1 labels, one sigmoid unit and binary cross-entropy.
    preset : {"default", "dense_head", "two_conv"}, default="default"
        The search space. ``"default"``: 1 to 4 conv blocks (fewer when the
        images are small) with ``conv_blocks``, ``filters_<i>``,
        ``kernel_size``, ``batch_norm``, ``pooling``, ``dense_units``,
        ``dropout``, ``optimizer`` and ``learning_rate``. ``"dense_head"``:
        fixed Conv32-Pool-Conv64-Pool with tuned ``dense_units``,
        ``dropout``, ``learning_rate`` and ``optimizer``. ``"two_conv"``: the
        published two-convolution space (``conv_1_filters``,
        ``conv_1_kernel``, ``conv_2_filters``, ``conv_2_kernel``,
        ``dense_units``, ``learning_rate``; Adam). See ``docs/hypermodels.md``.
    space : dict, optional
        Overrides, by hyperparameter name: a tuple ``(low, high)`` or
        ``(low, high, step)`` or ``(low, high, "log")`` is a range, a list is
        a choice, a single value is fixed.
    rescale : float or (float, float), optional
        Put a ``Rescaling(scale, offset)`` layer first, e.g. ``1/255``.
    augment : bool or dict, optional
        ``True`` or a dict with keys among ``flip`` (``"horizontal"``,
        ``"vertical"``, ``"horizontal_and_vertical"``), ``rotation``,
        ``zoom``, ``translation`` and ``contrast`` (fractions): random
        augmentation layers inside the model (active in training only).
    padding : {"same", "valid"}, default="same"
        Convolution padding. With ``"same"`` every preset works down to 8x8
        images; ``"valid"`` reproduces the published models exactly and is
        refused for images too small for it.
    name : str, optional
        Name of the hypermodel and of the models it builds.
    dtype_policy : {"mixed_bfloat16", "mixed_float16", "float32"}, optional
        Mixed precision, opt-in: every layer but the output one computes in
        ``bfloat16`` / ``float16`` with ``float32`` weights (the output layer,
        the loss and the objective stay ``float32``; ``"mixed_float16"`` gets
        Keras' loss scaling). Set per model, so it survives the
        ``clear_session()`` before every trial, which resets a global policy.
        None (default): Keras' global policy.

    Returns
    -------
    CNNHyperModel

    Raises
    ------
    InvalidParameterError
        For an invalid argument, an unknown or impossible ``space`` entry, or
        images too small for the preset.

    Examples
    --------
    >>> import keras_tuner
    >>> import tunekit
    >>> hypermodel = tunekit.build_cnn_hypermodel(
    ...     (28, 28, 1), 10, space={"optimizer": "adam", "dense_units": [64, 128]}
    ... )
    >>> hypermodel.search_space["conv_blocks"]
    'Int 1..4'
    >>> hypermodel.search_space["dense_units"]
    'Choice 64, 128'
    >>> model = hypermodel.build(keras_tuner.HyperParameters())
    >>> model.loss.name, model.output_shape
    ('sparse_categorical_crossentropy', (None, 10))
    >>> tunekit.build_cnn_hypermodel((8, 8, 1), 3, label_mode="binary")
    Traceback (most recent call last):
    ...
    tunekit._errors.InvalidParameterError: `label_mode='binary'` needs exactly 2 ...
    """
    return CNNHyperModel(
        input_shape,
        num_classes,
        label_mode=label_mode,
        preset=preset,
        space=space,
        rescale=rescale,
        augment=augment,
        padding=padding,
        name=name,
        dtype_policy=dtype_policy,
    )
