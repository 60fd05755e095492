"""What surrounds one ``search()`` of a tunekit tuner.

:class:`SearchSession` is entered by ``search()`` before any check or epoch
and left when the search ends, however it ends. It

* holds the project lock (:class:`~tunekit.tuners._project_lock.ProjectLock`)
  so that a second process cannot search the same project;
* installs tunekit's one-line-per-trial display
  (:class:`~tunekit.tuners._progress.SearchProgress`) and turns KerasTuner's
  display and Keras' per-epoch bars off, unless ``search()`` was given
  ``verbose=``, which restores KerasTuner's display exactly;
* on Ctrl-C, prints one line saying how many trials are complete and that
  rerunning the same call resumes, then lets the ``KeyboardInterrupt`` go on
  (marked ``tunekit_reported = True`` so that the CLI prints nothing more).
  While KerasTuner writes the oracle and trial files at the start and end of
  a trial, a Ctrl-C is held back until the files are written, so an
  interrupt does not leave a truncated ``oracle.json`` behind.
"""

from __future__ import annotations

import contextlib
import datetime
import inspect
import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

from tunekit.tuners._distributed import local_trials
from tunekit.tuners._progress import SearchProgress, interrupted_line
from tunekit.tuners._project_lock import ProjectLock
from tunekit.tuners._state import tuner_state

__all__ = ["SearchSession", "current_session", "session_hook", "trial_end_scope"]


def current_session(tuner: Any) -> SearchSession | None:
    """The session of the search ``tuner`` is running, if any."""
    state = tuner_state(tuner)
    return None if state is None else state.session


def _set_session(tuner: Any, session: SearchSession | None) -> None:
    state = tuner_state(tuner)
    if state is not None:
        state.session = session


def session_hook(tuner: Any, name: str, *args: Any) -> None:
    """Call ``name`` on the tuner's running session, if there is one."""
    session = current_session(tuner)
    if session is not None:
        getattr(session, name)(*args)


@contextlib.contextmanager
def trial_end_scope(tuner: Any, trial: Any) -> Iterator[None]:
    """Wrap ``Tuner.on_trial_end``: hold Ctrl-C back, then print the trial line."""
    session = current_session(tuner)
    if session is None:
        yield
        return
    with session.writing():
        yield
        session.trial_end(trial)


def _is_chief() -> bool:
    """The chief of KerasTuner's distributed mode serves the oracle: no trials."""
    return "KERASTUNER_ORACLE_IP" in os.environ and "chief" in os.environ.get(
        "KERASTUNER_TUNER_ID", ""
    )


def _number_trial_for_kerastuner(oracle: Any, trial: Any) -> None:
    """Keep KerasTuner's display bookkeeping while its printing is off.

    ``Display.on_trial_begin`` numbers trials (``trial_number``, saved in
    ``oracle.json``) only when it prints; tunekit silences it, so number the
    trial here as it would have.
    """
    trials = local_trials(oracle)
    if trials is None:  # a distributed worker: the chief's oracle displays
        return
    display = getattr(oracle, "_display", None)
    numbers = getattr(display, "trial_number", None)
    if not isinstance(numbers, dict) or trial.trial_id in numbers:
        return
    now = datetime.datetime.now()
    display.trial_start[trial.trial_id] = now
    if display.search_start is None:
        display.search_start = now
    numbers[trial.trial_id] = len(trials)


def _accepts_verbose(function: Any) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD or p.name == "verbose"
        for p in parameters
    )


def _passes_verbose_to_fit(tuner: Any) -> bool:
    """Whether adding ``verbose=0`` to the search kwargs reaches ``Model.fit`` safely.

    A custom ``run_trial`` or ``HyperModel.fit`` receives the search kwargs;
    ``verbose`` is added only when its signature takes it (or ``**kwargs``).
    """
    run_trial = getattr(tuner, "run_trial", None)
    fit = getattr(getattr(tuner, "hypermodel", None), "fit", None)
    return all(_accepts_verbose(f) for f in (run_trial, fit) if f is not None)


class SearchSession:
    """Lock, display and Ctrl-C handling around one search (a context manager).

    Parameters
    ----------
    tuner : keras_tuner.Tuner
        A tunekit tuner.
    fit_kwargs : dict
        The keyword arguments given to ``search()``; :attr:`fit_kwargs` is the
        (copied) dict to pass on to KerasTuner.
    display : bool, default=True
        Show tunekit's display (the tuner's ``verbose`` at construction); a
        tuner state's ``display`` (True/False), set by the CLI, takes
        precedence.
    arguments : dict, optional
        The search arguments named as ``Model.fit`` receives them (``x``,
        ``y``, ``validation_data``...), used for the majority-class rate.
    """

    def __init__(
        self,
        tuner: Any,
        fit_kwargs: dict[str, Any],
        *,
        display: bool = True,
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.tuner = tuner
        self.fit_kwargs = dict(fit_kwargs)
        self.arguments = arguments or {}
        self.kerastuner_display = "verbose" in fit_kwargs
        self.progress: SearchProgress | None = None
        state = tuner_state(tuner)
        forced = None if state is None else state.display  # set by the CLI
        display = display if forced is None else bool(forced)
        if display and not self.kerastuner_display and not _is_chief():
            self.progress = SearchProgress()
        # OptunaSearch's processes share the project; its study coordinates.
        shared = state is not None and state.shared_project
        self.lock = ProjectLock(tuner.project_dir, shared=shared)
        self._oracle_verbose: Any = None
        self._critical = 0
        self._pending_interrupt = False
        self._previous_handler: Any = None

    # -- context manager ---------------------------------------------------

    def __enter__(self) -> SearchSession:
        self.lock.acquire()
        try:
            if not self.kerastuner_display:
                self._quiet_kerastuner()
            self._install_interrupt_handler()
            _set_session(self.tuner, self)
        except BaseException:
            self._restore()
            raise
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._restore()
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self.report_interrupt(exc)

    def _restore(self) -> None:
        _set_session(self.tuner, None)
        self._remove_interrupt_handler()
        if self._oracle_verbose is not None:
            try:
                self.tuner.oracle.verbose = self._oracle_verbose
            except Exception:
                pass
            self._oracle_verbose = None
        self.lock.release()

    def _quiet_kerastuner(self) -> None:
        oracle = self.tuner.oracle
        local = local_trials(oracle) is not None  # a worker's client displays nothing
        if local and (hasattr(type(oracle), "verbose") or hasattr(oracle, "_display")):
            try:
                self._oracle_verbose = oracle.verbose
                oracle.verbose = 0  # KerasTuner's Display: no table, no clearing
            except Exception:
                self._oracle_verbose = None
        if _passes_verbose_to_fit(self.tuner):
            self.fit_kwargs["verbose"] = 0  # no per-epoch bars

    # -- display -----------------------------------------------------------

    def start(self) -> None:
        """Print the display's header; call after the search checks passed."""
        if self.progress is not None:
            self._safely(self.progress.on_search_begin, self.tuner, self.arguments)

    def _safely(self, hook: Any, *args: Any) -> None:
        """A display problem must never stop a search: drop the display instead."""
        try:
            hook(*args)
        except Exception as error:  # pragma: no cover - defensive
            self.progress = None
            print(f"tunekit: progress display off ({error!r})", file=sys.stderr)

    def trial_begin(self, trial: Any) -> None:
        """Hook of ``Tuner.on_trial_begin``: the new trial's files are written."""
        self._leave_critical()
        if self._oracle_verbose is not None:
            _number_trial_for_kerastuner(self.tuner.oracle, trial)
        if self.progress is not None:
            self._safely(self.progress.on_trial_begin, self.tuner, trial)

    def epoch_end(self, trial: Any, model: Any, epoch: int, logs: Any) -> None:
        """Hook of ``Tuner.on_epoch_end``."""
        if self.progress is not None:
            self._safely(
                self.progress.on_epoch_end, self.tuner, trial, model, epoch, logs
            )

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold Ctrl-C back while KerasTuner writes the project files."""
        self._critical = 1
        try:
            yield
        finally:
            self._critical = 0
        if self._pending_interrupt:
            self._pending_interrupt = False
            raise KeyboardInterrupt

    def trial_end(self, trial: Any) -> None:
        """After ``Tuner.on_trial_end`` wrote the trial: print the trial's line."""
        if self.progress is not None:
            self._safely(self.progress.on_trial_end, self.tuner, trial)

    def creating_trial(self) -> None:
        """Hook of ``Tuner.pre_create_trial``: the oracle writes files next."""
        self._critical = 1

    def search_end(self) -> None:
        """Hook of ``Tuner.on_search_end``."""
        self._leave_critical()

    # -- Ctrl-C ------------------------------------------------------------

    def _install_interrupt_handler(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        try:
            current = signal.getsignal(signal.SIGINT)
        except (ValueError, OSError):  # pragma: no cover
            return
        if current is not signal.default_int_handler:
            return  # someone else (a debugger, a framework) handles Ctrl-C
        self._previous_handler = current
        signal.signal(signal.SIGINT, self._on_sigint)

    def _remove_interrupt_handler(self) -> None:
        if self._previous_handler is None:
            return
        try:
            signal.signal(signal.SIGINT, self._previous_handler)
        except (ValueError, OSError):  # pragma: no cover
            pass
        self._previous_handler = None

    def _on_sigint(self, signum: int, frame: Any) -> None:
        if self._critical > 0 and not self._pending_interrupt:
            self._pending_interrupt = True  # raised once the files are written
            return
        self._pending_interrupt = False  # a second Ctrl-C does not wait
        raise KeyboardInterrupt

    def _leave_critical(self) -> None:
        """End the section opened by :meth:`creating_trial`."""
        self._critical = 0
        if self._pending_interrupt:
            self._pending_interrupt = False
            raise KeyboardInterrupt

    def report_interrupt(self, interrupt: BaseException | None = None) -> str:
        """Print (to stderr) and return the one-line summary of an interrupt."""
        try:
            line = interrupted_line(self.tuner)
        except Exception:  # pragma: no cover - defensive
            line = "tunekit: search interrupted. Rerun the same call to resume."
        print(line, file=sys.stderr, flush=True)
        if interrupt is not None:
            try:
                interrupt.tunekit_reported = True  # type: ignore[attr-defined]
            except AttributeError:  # pragma: no cover
                pass
        return line
