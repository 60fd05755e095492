"""One self-contained HTML page about a search: ``tunekit report`` and ``to_html``.

The page has no external resource (inline CSS, inline SVG charts, a few
lines of inline JavaScript for sorting), so it opens offline, can be mailed
or attached to a CI run, and never fetches from a CDN. It shows

* the leaderboard: every trial with status, score, best epoch, flags and
  hyperparameters (click a column to sort); the best trial is highlighted;
* the best score so far against the trial number and against time;
* each hyperparameter against the objective;
* collapsed (accuracy at chance), pruned, failed and NaN-loss trials marked
  in the table and the charts;
* the Hyperband schedule, with how many trials of each round have run;
* a trial whose search process died as ``INTERRUPTED`` (the project lock
  tells whether its owner is alive), and every trial file that could not be
  read, by name.

Two sources: :func:`report_from_project` reads a project directory on disk
(finished, interrupted or still running; no Keras, no hypermodel needed), and
:func:`report_from_summary` takes :func:`tunekit.summarize`'s result
(both in :mod:`tunekit.tuners._report_data`); this module renders their
:class:`ReportData`.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tunekit._atomic import unwritable, write_text
from tunekit._errors import InvalidParameterError
from tunekit._validation import received
from tunekit.tuners._progress import format_value
from tunekit.tuners._report_data import (
    INTERRUPTED,
    ReportData,
    ReportTrial,
    numeric_key,
)

__all__ = ["render_html", "write_report"]

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;
color:#1d2330;background:#f6f7fb}
header{background:#283593;color:#fff;padding:18px 28px}
header h1{margin:0;font-size:22px}header p{margin:4px 0 0;opacity:.85}
main{padding:20px 28px;max-width:1200px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;
padding:14px 18px;margin:0 0 18px}
h2{font-size:17px;margin:0 0 10px}
.cards{display:flex;gap:14px;flex-wrap:wrap}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;
padding:10px 16px;min-width:150px}
.card b{display:block;font-size:20px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #e3e6ef;text-align:left;
white-space:nowrap}
th{cursor:pointer;background:#eef0f7;position:sticky;top:0}
tr.best td{background:#fff7d6;font-weight:600}
tr.failed td{color:#9a1b1b}tr.running td{color:#0b6b3a}
tr.interrupted td{color:#8a5a00}
td .msg{display:inline-block;white-space:normal;min-width:260px;max-width:420px;
vertical-align:top}
.table-scroll{overflow:auto;max-height:480px;border:1px solid #e3e6ef;
border-radius:4px}
.warning{background:#fff3e0;border-left:4px solid #e65100;padding:8px 12px}
.flag{display:inline-block;border-radius:4px;padding:0 5px;margin-right:3px;
font-size:11px;color:#fff}
.flag.collapsed{background:#c62828}.flag.pruned{background:#757575}
.flag.nan_loss{background:#6a1b9a}.flag.failed{background:#9a1b1b}
.flag.interrupted{background:#8a5a00}
.charts{display:flex;flex-wrap:wrap;gap:14px}
svg{background:#fff}svg text{font-size:11px;fill:#444}
.legend span{margin-right:14px;font-size:12px}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;
margin-right:4px;vertical-align:middle}
.note{color:#555;font-size:12px}
"""

_JS = """
(function(){
  var table=document.getElementById('leaderboard');
  if(table){
    var heads=table.querySelectorAll('th');
    heads.forEach(function(th,col){
      th.addEventListener('click',function(){
        var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
        var asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
        rows.sort(function(a,b){
          var x=a.cells[col].dataset.v||a.cells[col].textContent;
          var y=b.cells[col].dataset.v||b.cells[col].textContent;
          var nx=parseFloat(x),ny=parseFloat(y);
          var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:String(x).localeCompare(String(y));
          return asc?c:-c;});
        rows.forEach(function(r){body.appendChild(r);});
      });
    });
  }
  var data=JSON.parse(document.getElementById('report-data').textContent);
  var status=document.getElementById('report-status');
  status.textContent='report ready: '+data.trials+' trials, best trial '+
    (data.best_trial===null?'none':data.best_trial);
  document.body.setAttribute('data-report-ready','1');
})();
"""

_COLORS = {
    "best": "#f9a825",
    "completed": "#3949ab",
    "collapsed": "#c62828",
    "pruned": "#9e9e9e",
    "nan_loss": "#6a1b9a",
    "failed": "#9a1b1b",
}


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value: Any) -> str:
    return "-" if value is None else format_value(value)


def _category(trial: ReportTrial, best: ReportTrial | None) -> str:
    if best is not None and trial.trial_id == best.trial_id:
        return "best"
    for flag in ("collapsed", "nan_loss", "pruned"):
        if flag in trial.flags:
            return flag
    if trial.status in {"FAILED", "INVALID"}:
        return "failed"
    return "completed"


def _scale(values: Sequence[float], lo_px: float, hi_px: float) -> Any:
    lo, hi = min(values), max(values)
    if hi == lo:
        lo, hi = lo - 0.5, hi + 0.5
    span = hi - lo
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    return (lambda v: lo_px + (v - lo) / (hi - lo) * (hi_px - lo_px)), lo, hi


def _axis_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if not math.isfinite(lo) or not math.isfinite(hi) or hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = min(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    ticks = []
    value = first
    while value <= hi + 1e-12:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _log_ticks(lo: float, hi: float) -> list[float]:
    """``log10`` of the 1-2-5 values between ``10**lo`` and ``10**hi``."""
    decades = range(math.floor(lo), math.ceil(hi) + 1)
    for multiples in ((1, 2, 5), range(1, 10)):
        ticks = [math.log10(m) + e for e in decades for m in multiples]
        ticks = [t for t in ticks if lo <= t <= hi]
        if len(ticks) >= 3:
            break
    if len(ticks) > 6:  # many decades: powers of ten only
        ticks = [t for t in ticks if abs(t - round(t)) < 1e-9]
    return ticks or [(lo + hi) / 2]


def _id_ticks(ids: Sequence[str], most: int = 20) -> list[tuple[float, str]]:
    """Trial-id ticks at positions ``1, 2, ...``, thinned to ``most`` at most."""
    step = max(1, math.ceil(len(ids) / most))
    return [(float(i + 1), ids[i]) for i in range(0, len(ids), step)]


def _chart(
    title: str,
    points: list[tuple[float, float, str, str]],
    *,
    step_line: list[tuple[float, float]] | None = None,
    x_label: str,
    y_label: str,
    x_categories: list[str] | None = None,
    x_ticks: list[tuple[float, str]] | None = None,
    x_log: bool = False,
    width: int = 540,
    height: int = 300,
) -> str:
    """An SVG scatter chart; ``points`` are ``(x, y, category, tooltip)``.

    ``x_categories`` labels the positions ``0, 1, ...``; ``x_ticks`` gives
    ``(x, label)`` ticks; ``x_log`` says the x values are ``log10`` of the
    values shown (ticks at 1, 2, 5 times powers of ten, labelled in values).
    """
    left, right, top, bottom = 58, 14, 26, 42
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(title)}">',
        f'<text x="{left}" y="16" style="font-size:13px;font-weight:600">'
        f"{_esc(title)}</text>",
    ]
    ys = [p[1] for p in points] + [p[1] for p in step_line or []]
    xs = [p[0] for p in points] + [p[0] for p in step_line or []]
    if not ys:
        parts.append(
            f'<text x="{left}" y="{height / 2}">no finished trial yet</text></svg>'
        )
        return "".join(parts)
    to_x, x_lo, x_hi = _scale(xs, left, width - right)
    to_y, y_lo, y_hi = _scale(ys, height - bottom, top)
    parts.append(
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" '
        f'y2="{height - bottom}" stroke="#888"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" '
        f'stroke="#888"/>'
    )
    for tick in _axis_ticks(y_lo, y_hi):
        y = to_y(tick)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
            f'stroke="#eee"/><text x="{left - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_fmt(float(tick))}</text>'
        )
    if x_categories is not None:
        x_ticks = [(float(i), name) for i, name in enumerate(x_categories)]
    elif x_log:
        x_ticks = [(t, _fmt(10.0**t)) for t in _log_ticks(x_lo, x_hi)]
    if x_ticks is not None:
        for index, name in x_ticks:
            x = to_x(index)
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{_esc(name)}</text>'
            )
    else:
        for tick in _axis_ticks(x_lo, x_hi):
            x = to_x(tick)
            parts.append(
                f'<text x="{x:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{_fmt(float(tick))}</text>'
            )
    parts.append(
        f'<text x="{(left + width - right) / 2}" y="{height - 8}" '
        f'text-anchor="middle">{_esc(x_label)}</text>'
        f'<text transform="translate(14,{(top + height - bottom) / 2}) rotate(-90)" '
        f'text-anchor="middle">{_esc(y_label)}</text>'
    )
    if step_line:
        path = []
        for index, (x, y) in enumerate(step_line):
            px, py = to_x(x), to_y(y)
            if index == 0:
                path.append(f"M{px:.1f},{py:.1f}")
            else:
                path.append(f"H{px:.1f}V{py:.1f}")
        parts.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{_COLORS["best"]}" '
            f'stroke-width="2"><title>best so far</title></path>'
        )
    for x, y, category, tooltip in points:
        color = _COLORS.get(category, _COLORS["completed"])
        radius = 6 if category == "best" else 4
        hollow = category == "pruned"
        parts.append(
            f'<circle cx="{to_x(x):.1f}" cy="{to_y(y):.1f}" r="{radius}" '
            f'fill="{"none" if hollow else color}" stroke="{color}" '
            f'stroke-width="1.5" class="pt {category}"><title>{_esc(tooltip)}</title>'
            "</circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _legend() -> str:
    names = {
        "best": "best trial",
        "completed": "completed",
        "collapsed": "collapsed (accuracy at chance)",
        "nan_loss": "NaN loss",
        "pruned": "pruned",
    }
    return (
        '<p class="legend">'
        + "".join(
            f'<span><i class="dot" style="background:{_COLORS[k]}"></i>{v}</span>'
            for k, v in names.items()
        )
        + "<span>line: best so far</span></p>"
    )


def _tooltip(trial: ReportTrial, objective: str) -> str:
    values = ", ".join(f"{k}={_fmt(v)}" for k, v in trial.hyperparameters.items())
    flags = f" [{', '.join(trial.flags)}]" if trial.flags else ""
    return f"trial {trial.trial_id}: {objective}={_fmt(trial.score)}{flags}; {values}"


def _progress_charts(data: ReportData) -> str:
    best = data.best_trial
    name = data.objective[0]
    by_trial, by_time = [], []
    line_trial, line_time = [], []
    for index, (trial, so_far) in enumerate(zip(data.trials, data.best_so_far), 1):
        if trial.finished:
            point = (trial.score, _category(trial, best), _tooltip(trial, name))
            by_trial.append((float(index), *point))
            if trial.finished_seconds is not None:
                by_time.append((trial.finished_seconds / 60, *point))
        if so_far is not None:
            line_trial.append((float(index), so_far))
            if trial.finished_seconds is not None:
                line_time.append((trial.finished_seconds / 60, so_far))
    charts = [
        _chart(
            f"best {name} so far, by trial",
            by_trial,
            step_line=line_trial,
            x_label="trial id (in start order)",
            y_label=name,
            x_ticks=_id_ticks([t.trial_id for t in data.trials]),
        )
    ]
    if by_time:
        charts.append(
            _chart(
                f"best {name} so far, by time",
                by_time,
                step_line=sorted(line_time),
                x_label="minutes since the search started (trial end)",
                y_label=name,
            )
        )
    return "".join(charts)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _hyperparameter_charts(data: ReportData) -> str:
    best = data.best_trial
    name = data.objective[0]
    finished = [t for t in data.trials if t.finished]
    names = sorted({k for t in data.trials for k in t.hyperparameters})
    charts = []
    for hp in names:
        values = [t.hyperparameters.get(hp) for t in finished]
        present = [v for v in values if v is not None]
        if not present:
            continue
        numeric = all(_is_number(v) for v in present)
        positive = numeric and all(v > 0 for v in present)
        distinct = sorted(set(present), key=_value_key)
        points = []
        categories = None
        if hp in data.log_scale and positive:
            log = True  # sampled on a log scale: always a log axis
        elif numeric and len(distinct) > 4:
            log = positive and max(present) / min(present) >= 100
        else:
            log = None  # categories
        if log is None:
            categories = [_fmt(v) for v in distinct]
        for trial, value in zip(finished, values):
            if value is None:
                continue
            if log is None:
                x = float(distinct.index(value))
            else:
                x = math.log10(value) if log else float(value)
            points.append(
                (x, trial.score, _category(trial, best), _tooltip(trial, name))
            )
        label = f"{hp} (log scale)" if log else hp
        charts.append(
            _chart(
                f"{hp} vs {name}",
                points,
                x_label=label,
                y_label=name,
                x_categories=categories,
                x_log=bool(log),
                width=380,
                height=260,
            )
        )
    return "".join(charts) or '<p class="note">No tuned hyperparameter.</p>'


def _value_key(value: Any) -> tuple[int, float, str]:
    if _is_number(value):
        return (0, float(value), "")
    return (1, 0.0, str(value))


def _leaderboard(data: ReportData) -> str:
    best = data.best_trial
    names = sorted({k for t in data.trials for k in t.hyperparameters})
    header = ["trial", "status", data.objective[0], "best epoch", "flags"]
    if data.hyperband:
        header.append("epochs (bracket/round)")
    header += names
    rows = []
    sign = 1 if data.direction == "max" else -1
    ranked = sorted(
        data.trials,
        key=lambda t: (not t.finished, -(sign * t.score) if t.finished else 0),
    )
    for trial in ranked:
        classes = []
        if best is not None and trial.trial_id == best.trial_id:
            classes.append("best")
        if trial.status in {"FAILED", "INVALID"}:
            classes.append("failed")
        if trial.status == "RUNNING":
            classes.append("running")
        if trial.status == INTERRUPTED:
            classes.append("interrupted")
        flags = list(trial.flags)
        if trial.status in {"FAILED", "INVALID"}:
            flags.append("failed")
        if trial.status == INTERRUPTED:
            flags.append("interrupted")
        flag_html = "".join(
            f'<span class="flag {_esc(f)}">{_esc(f)}</span>' for f in flags
        )
        if trial.message:
            flag_html += f' <span class="note msg">{_esc(trial.message)}</span>'
        score = "" if trial.score is None else repr(trial.score)
        cells = [
            f'<td data-v="{numeric_key(trial.trial_id)[0]}">'
            f"{_esc(trial.trial_id)}</td>",
            f"<td>{_esc(trial.status)}</td>",
            f'<td data-v="{score}">{_fmt(trial.score)}</td>',
            f"<td>{_fmt(trial.best_epoch)}</td>",
            f"<td>{flag_html or '-'}</td>",
        ]
        if data.hyperband:
            hb = trial.hyperband
            cells.append(
                "<td>"
                + (
                    f"{hb.get('initial_epoch', 0)}&rarr;{hb['epochs']} "
                    f"({hb.get('bracket', '-')}/{hb.get('round', '-')})"
                    if "epochs" in hb
                    else "-"
                )
                + "</td>"
            )
        cells += [f"<td>{_esc(_fmt(trial.hyperparameters.get(n)))}</td>" for n in names]
        attr = f' class="{" ".join(classes)}"' if classes else ""
        rows.append(
            f'<tr{attr} data-trial="{_esc(trial.trial_id)}">{"".join(cells)}</tr>'
        )
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    return (
        '<div class="table-scroll" id="leaderboard-scroll">'
        f'<table id="leaderboard"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>"
    )


def _unreadable(data: ReportData) -> str:
    """A warning naming every trial file the report could not read."""
    if not data.unreadable:
        return ""
    items = "".join(
        f"<li><code>{_esc(path)}</code>: {_esc(why)}</li>"
        for path, why in data.unreadable
    )
    count = len(data.unreadable)
    return (
        '<section class="warning" id="unreadable"><h2>'
        f"{count} trial file{'s' if count > 1 else ''} could not be read</h2>"
        '<p class="note">These trials are missing from the leaderboard and the '
        "charts. A file can be damaged by a full disk or a copy cut short; "
        "KerasTuner cannot reload such a project either.</p>"
        f"<ul>{items}</ul></section>"
    )


def _schedule(data: ReportData) -> str:
    if not data.hyperband:
        return ""
    from tunekit.tuners._schedule import hyperband_schedule

    schedule = hyperband_schedule(**data.hyperband)
    done: dict[tuple[int, int], int] = {}
    for trial in data.trials:
        key = (trial.hyperband.get("bracket"), trial.hyperband.get("round"))
        if None not in key and trial.status != "RUNNING":
            done[key] = done.get(key, 0) + 1
    planned: dict[tuple[int, int], list[Any]] = {}
    for r in schedule.rounds:
        planned.setdefault((r.bracket, r.round), []).append(r)
    rows = []
    for (bracket, round_num), rounds in planned.items():
        trials = sum(r.trials for r in rounds)
        first = rounds[0]
        rows.append(
            f"<tr><td>{bracket}</td><td>{round_num}</td>"
            f"<td>{first.initial_epoch}&rarr;{first.epochs}</td>"
            f"<td>{trials}</td><td>{done.get((bracket, round_num), 0)}</td></tr>"
        )
    return (
        "<section><h2>Hyperband schedule</h2>"
        f'<p class="note">max_epochs={schedule.max_epochs}, factor={schedule.factor}, '
        f"hyperband_iterations={schedule.hyperband_iterations}: "
        f"{schedule.total_trials} trials ({schedule.new_configurations} new "
        f"configurations), {schedule.total_epochs} epochs.</p>"
        "<table><thead><tr><th>bracket</th><th>round</th><th>epochs</th>"
        "<th>trials planned</th><th>trials run</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _cards(data: ReportData) -> str:
    best = data.best_trial
    counts: dict[str, int] = {}
    for trial in data.trials:
        counts[trial.status] = counts.get(trial.status, 0) + 1
    flagged = sum(1 for t in data.trials if t.flags)
    items = [
        (
            "best " + data.objective[0],
            "none yet" if best is None else f"{_fmt(best.score)}",
        ),
        ("best trial", "-" if best is None else best.trial_id),
        ("trials", f"{len(data.trials)} ({counts.get('COMPLETED', 0)} completed)"),
        ("flagged", str(flagged)),
        (
            "failed",
            str(counts.get("FAILED", 0) + counts.get("INVALID", 0)),
        ),
    ]
    if counts.get(INTERRUPTED):
        items.append(("interrupted", str(counts[INTERRUPTED])))
    if data.unreadable:
        items.append(("unreadable files", str(len(data.unreadable))))
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card" id="card-{i}">{_esc(k)}<b>{_esc(v)}</b></div>'
            for i, (k, v) in enumerate(items)
        )
        + "</div>"
    )


def render_html(data: ReportData) -> str:
    """The report page as one HTML string (no external resource).

    Examples
    --------
    >>> page = render_html(ReportData("demo", ("val_accuracy", "max"), [
    ...     ReportTrial("0", "COMPLETED", 0.8, 2, {"units": 16})]))
    >>> page.startswith("<!DOCTYPE html>"), "http" in page.split("<body")[0]
    (True, False)
    """
    best = data.best_trial
    state = "still running" if data.running else "not running"
    if any(t.status == INTERRUPTED for t in data.trials):
        state = "not running: interrupted (its search process died)"
    best_line = (
        "no finished trial yet"
        if best is None
        else f"best trial {best.trial_id}: {data.objective[0]} = {_fmt(best.score)}"
        + (
            " ("
            + ", ".join(f"{k}={_fmt(v)}" for k, v in best.hyperparameters.items())
            + ")"
            if best.hyperparameters
            else ""
        )
    )
    summary = {
        "trials": len(data.trials),
        "best_trial": None if best is None else best.trial_id,
        "best_score": None if best is None else best.score,
        "objective": list(data.objective),
        "running": data.running,
        "interrupted": [t.trial_id for t in data.trials if t.status == INTERRUPTED],
        "unreadable": [{"path": p, "error": why} for p, why in data.unreadable],
    }
    generated = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    payload = json.dumps(summary).replace("</", "<\\/")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tunekit report: {_esc(data.title)}</title>
<style>{_CSS}</style></head>
<body>
<header><h1>tunekit report: {_esc(data.title)}</h1>
<p>objective {_esc(data.objective[0])} ({_esc(data.direction)})
&middot; {len(data.trials)} trials &middot; {state} &middot; generated {generated}
{f"&middot; {_esc(data.source)}" if data.source else ""}</p></header>
<main>
<p id="best-trial"><strong>{_esc(best_line)}</strong></p>
{_unreadable(data)}
{_cards(data)}
<section><h2>Best so far</h2>{_legend()}
<div class="charts">{_progress_charts(data)}</div></section>
<section><h2>Leaderboard</h2>
<p class="note">Best first; click a column to sort.</p>{_leaderboard(data)}</section>
<section><h2>Hyperparameters against {_esc(data.objective[0])}</h2>
<div class="charts">{_hyperparameter_charts(data)}</div></section>
{_schedule(data)}
<p id="report-status" class="note">report ready (no script)</p>
</main>
<script type="application/json" id="report-data">{payload}</script>
<script>{_JS}</script>
</body></html>
"""


def write_report(
    data: ReportData,
    path: str | os.PathLike[str],
    *,
    argument: str = "path",
    way_out: str | None = None,
    source: str | None = None,
) -> Path:
    """Write the page to ``path`` (atomically); return the path.

    Parameters
    ----------
    data : ReportData
        The search to show.
    path : str or path-like
        The ``.html`` file; missing folders are created.
    argument : str, default "path"
        The argument that chose ``path``, named in errors (``--output``).
    way_out : str, optional
        What to do when ``path`` cannot be written; by default: another
        ``argument`` in a folder you can write to.
    source : str, optional
        The ``Received: ...`` part of that error; by default ``argument=path``.

    Raises
    ------
    UnwritablePathError
        When the folder cannot be created or written (read-only, or a file
        stands where a folder should be). An older page there is kept.

    Examples
    --------
    >>> import os, tempfile
    >>> path = write_report(ReportData("demo", ("val_loss", "min"), []),
    ...                     os.path.join(tempfile.mkdtemp(), "report.html"))
    >>> path.read_text().count("<html")
    1
    """
    target = Path(path)
    if target.suffix.lower() not in {".html", ".htm"}:
        raise InvalidParameterError(
            f"`{argument}` must name an .html file for the report. "
            f"{received(argument, os.fspath(path))}"
        )
    page = render_html(data)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, page)
    except OSError as error:
        raise unwritable(
            target,
            error,
            way_out=way_out or f"Pass a `{argument}` in a folder you can write to.",
            source=source or f"{argument}={os.fspath(path)!r}",
        ) from error
    return target
