"""Start-up time of everyday `claude-max` invocations against the STYLE.md §2 budgets.

Every case runs the installed console script as a user's shell would (the shebang's
interpreter, no `python -m`), with stdout and stderr to /dev/null. Cases are interleaved, in
an order rotated each round, so that load drifts hit all of them alike; the first round is a
warm-up (page cache) and checks that every case exits 0.

    .venv/bin/python bench/startup.py                     # 20 rounds
    .venv/bin/python bench/startup.py --runs 40 --json
    .venv/bin/python bench/startup.py --python .venv/bin/python --python /tmp/v/bin/python

TAB cases are what a completion script runs on each TAB press: bash asks once, zsh once
(with help text), fish twice (`is-args`, then `get-args`).

On a shared machine wall times swing with the load: compare against the `python -c pass`
floor measured in the same rounds, and the CPU time (user + sys) each case used, which the
load inflates far less.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Case:
    label: str
    calls: list[tuple[list[str], dict[str, str]]]  # (argv after the program, extra env)
    budget: float | None = None  # ms, STYLE.md §2.2
    program: str = "claude-max"  # or "python"
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + sys ms


def tab(shell: str, line: str) -> list[tuple[list[str], dict[str, str]]]:
    """The environment a completion script sets for `line` (cursor at its end)."""
    var = {"_CLAUDE_MAX_COMPLETE": f"complete_{shell}"}
    if shell == "bash":
        words = line.split(" ")
        env = {"COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)}
        return [([], var | env)]
    if shell == "zsh":
        return [([], var | {"_TYPER_COMPLETE_ARGS": line})]
    fish = var | {"_TYPER_COMPLETE_ARGS": line}
    return [
        ([], fish | {"_TYPER_COMPLETE_FISH_ACTION": "is-args"}),
        ([], fish | {"_TYPER_COMPLETE_FISH_ACTION": "get-args"}),
    ]


def cases() -> list[Case]:
    def run(*args: str) -> list[tuple[list[str], dict[str, str]]]:
        return [(list(args), {})]

    return [
        Case("python -c pass (floor)", run("-c", "pass"), program="python"),
        Case("python -c 'import typer'", run("-c", "import typer"), program="python"),
        Case("claude-max --version", run("--version"), 70),
        Case("claude-max --help", run("--help"), 140),
        Case("claude-max models", run("models"), 80),
        Case("claude-max models --json", run("models", "--json"), 80),
        Case("claude-max chat --help", run("chat", "--help"), 140),
        Case("claude-max serve --help", run("serve", "--help"), 140),
        Case("TAB bash: claude-max mo", tab("bash", "claude-max mo"), 80),
        Case("TAB bash: chat --model ", tab("bash", "claude-max chat --model "), 80),
        Case("TAB zsh: claude-max mo", tab("zsh", "claude-max mo"), 80),
        Case("TAB fish: claude-max mo (2 calls)", tab("fish", "claude-max mo"), None),
    ]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(case: Case, programs: dict[str, str], env: dict[str, str], check: bool) -> float:
    """Wall ms of the case's calls; their CPU ms go to `case.cpu` (when not checking)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for args, extra in case.calls:
        result = subprocess.run(
            [programs[case.program], *args],
            env=env | extra,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if check else subprocess.DEVNULL,
            stderr=subprocess.PIPE if check else subprocess.DEVNULL,
        )
        fish_is_args = extra.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args"
        if check and result.returncode != 0 and not fish_is_args:
            sys.exit(f"{case.label} failed ({result.returncode}):\n{result.stderr.decode()}")
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not check:
        used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        case.cpu.append(used * 1000)
    return wall


def versions(python: str) -> str:
    code = (
        "import sys, importlib.metadata as m; "
        "print(sys.version.split()[0], m.version('typer'), m.version('claude-max-proxy'))"
    )
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    py, typer, _cm = out.stdout.split()
    return f"py {py}, typer {typer}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed rounds (default 20)")
    parser.add_argument(
        "--python",
        action="append",
        help="interpreter of an install to measure; its bin/ holds claude-max (default: this "
        "one); repeat to compare installs, interleaved",
    )
    parser.add_argument("--json", action="store_true", help="print results as JSON")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a median is over budget")
    args = parser.parse_args()

    installs = []
    for python in args.python or [sys.executable]:
        path = Path(python).absolute()
        programs = {"python": str(path), "claude-max": str(path.parent / "claude-max")}
        if not Path(programs["claude-max"]).exists():
            sys.exit(f"no claude-max next to {path}")
        installs.append((versions(str(path)), programs, cases()))
    work = [(programs, case) for _, programs, install_cases in installs for case in install_cases]
    with tempfile.TemporaryDirectory(prefix="cm-startup-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith("_CLAUDE_MAX")}
        env |= {"CLAUDE_MAX_HOME": home, "COLUMNS": "100", "PYTHONDONTWRITEBYTECODE": "1"}
        load_before = os.getloadavg()[0]
        for programs, case in work:  # warm-up round, checked
            timed(case, programs, env, check=True)
        for i in range(args.runs):
            shift = i % len(work)
            for programs, case in work[shift:] + work[:shift]:
                case.times.append(timed(case, programs, env, check=False))
        load_after = os.getloadavg()[0]

    results = [
        {"install": info, "results": [summary(case) for case in install_cases]}
        for info, _, install_cases in installs
    ]
    over = [r for i in results for r in i["results"] if r["within_budget"] is False]
    if args.json:
        print(json.dumps({"runs": args.runs, "installs": results}, indent=2))
    else:
        print(
            f"{args.runs} rounds; load {load_before:.2f} -> {load_after:.2f}; "
            "median wall (p10) / median CPU ms\n"
        )
        print("| invocation | " + " | ".join(i["install"] for i in results) + " | budget |")
        print("| --- | " + "---: | " * len(results) + "--- |")
        for row in zip(*(i["results"] for i in results), strict=True):
            cells = [
                f"{r['median_ms']:.1f} ({r['p10_ms']:.1f}) / {r['cpu_median_ms']:.1f}" for r in row
            ]
            cells = [
                f"**{c}**" if r["within_budget"] is False else c
                for c, r in zip(cells, row, strict=True)
            ]
            budget = "" if row[0]["budget_ms"] is None else f"≤ {row[0]['budget_ms']:g}"
            print(f"| {row[0]['case']} | " + " | ".join(cells) + f" | {budget} |")
        print("\n(bold: median over budget)")
    return 1 if args.strict and over else 0


def summary(case: Case) -> dict[str, object]:
    median = statistics.median(case.times)
    return {
        "case": case.label,
        "median_ms": round(median, 1),
        "p10_ms": round(percentile(case.times, 0.1), 1),
        "p90_ms": round(percentile(case.times, 0.9), 1),
        "cpu_median_ms": round(statistics.median(case.cpu), 1),
        "budget_ms": case.budget,
        "within_budget": None if case.budget is None else median <= case.budget,
    }


if __name__ == "__main__":
    sys.exit(main())
