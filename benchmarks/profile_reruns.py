"""CPU time (and optionally a cProfile) of each kind of rerun the load test sends, server-side.

Starts one app server whose script runs are timed with ``time.thread_time`` (the CPU time of the
script thread, meaningful even on a busy machine) and, with ``--profile``, profiled with cProfile;
drives the load test's actions one after another (``bench_load.Session``, no think time); then
prints, per action, the median wall time seen by the client and the median CPU time of the run.

    python benchmarks/profile_reruns.py                  CPU per action, 10 of each
    python benchmarks/profile_reruns.py --profile 25     and the 25 costliest functions of each

Only measures: the hook wraps Streamlit's ``ScriptRunner._run_script`` in this process alone.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import cProfile
import io
import json
import os
import pstats
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _serve(out: Path, profile: bool) -> None:
    """Run ``streamlit run app.py`` in this process with every script run timed (and profiled)."""
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.web import cli

    lock, cpu, stats = threading.Lock(), {}, {}
    original = script_runner.ScriptRunner._run_script

    def action(runner, rerun_data) -> str:
        page = runner._pages_manager.get_pages().get(rerun_data.page_script_hash, {})
        name = Path(page.get("script_path", "app.py")).stem.split("_", 1)[-1]
        widgets = [w.id.split("-", 2)[-1] for w in rerun_data.widget_states.widgets
                   if w.id.startswith("$$ID-")]
        trigger = widgets[0].split("-")[0] if widgets else "load"
        kind = "fragment" if rerun_data.fragment_id_queue else "full"
        return f"{name}:{trigger} ({kind})"

    def timed(self, rerun_data) -> None:
        key = action(self, rerun_data)
        profiler = cProfile.Profile() if profile else None
        begin = time.thread_time()
        if profiler:
            profiler.enable()
        try:
            original(self, rerun_data)
        finally:
            if profiler:
                profiler.disable()
            spent = (time.thread_time() - begin) * 1000
            with lock:
                cpu.setdefault(key, []).append(spent)
                if profiler:
                    if key in stats:
                        stats[key].add(profiler)
                    else:
                        stats[key] = pstats.Stats(profiler)

    def dump(*_) -> None:
        report = {"cpu_ms": cpu, "profiles": {}}
        for key, st in stats.items():
            buffer = io.StringIO()
            st.stream = buffer
            st.sort_stats("cumulative").print_stats(profile_lines)
            report["profiles"][key] = buffer.getvalue()
        out.write_text(json.dumps(report))

    profile_lines = int(os.environ.get("PROFILE_LINES", "30"))
    script_runner.ScriptRunner._run_script = timed
    atexit.register(dump)  # Streamlit stops cleanly on SIGTERM
    sys.argv = ["streamlit", "run", "app.py", *sys.argv[3:]]
    cli.main()


def _process_cpu_ms(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (all its threads: the script runs, and
    the event loop that serialises, compresses and sends the messages)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


async def _drive(base: str, repeats: int, seed: int, pid: int) -> tuple[dict, dict]:
    import websockets
    from bench_load import Session

    walls: dict[str, list[float]] = {}
    process: dict[str, list[float]] = {}
    session = Session(base, random.Random(seed))
    async with websockets.connect(session.url, max_size=None, open_timeout=60) as ws:
        session.ws = ws
        await session.rerun("")
        for action in ("browse", "quiz", "lab") * repeats:
            before, cpu = len(session.latencies), _process_cpu_ms(pid)
            await session.act(action)
            await asyncio.sleep(0.3)  # the event loop finishes sending
            process.setdefault(action, []).append(_process_cpu_ms(pid) - cpu)
            for _, ms, _page in session.latencies[before:]:
                walls.setdefault(action, []).append(ms)
    return walls, process


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        _serve(Path(sys.argv[2]), os.environ.get("PROFILE_RERUNS") == "1")
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--profile", type=int, default=0, help="print N costliest functions")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    from conftest import StreamlitServer

    work = Path(tempfile.mkdtemp(prefix="profile-reruns-"))
    out = work / "report.json"
    env = {**os.environ, "ATTN_PREP_DB": str(work / "progress.sqlite3"), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "PROFILE_RERUNS": "1" if args.profile else "0",
           "PROFILE_LINES": str(args.profile or 1)}
    server = StreamlitServer(env, work / "server.log")
    _start(server, out)
    try:
        walls, process = asyncio.run(_drive(server.url, args.repeats, args.seed,
                                            server.process.pid))
    finally:
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(60)
    report = json.loads(out.read_text())
    print("client action  reruns  wall median  server process CPU per action (median, mean)")
    for name, ms in walls.items():
        cpu = process[name]
        print(f"  {name:8s} {len(ms):8d} {statistics.median(ms):9.0f} ms "
              f"{statistics.median(cpu):8.0f} ms {statistics.fmean(cpu):6.0f} ms")
    print(f"{'server run':40s} {'runs':>5s} {'CPU median':>11s} {'CPU mean':>9s}")
    for key, ms in sorted(report["cpu_ms"].items()):
        print(f"  {key:38s} {len(ms):5d} {statistics.median(ms):8.0f} ms "
              f"{statistics.fmean(ms):6.0f} ms")
    for key, text in report["profiles"].items():
        print(f"\n=== {key}\n{text}")
    return 0


def _start(server, out: Path) -> None:
    """Start ``server`` with this file as the Streamlit entry point (hooked)."""
    import subprocess
    import urllib.request

    command = [sys.executable, __file__, "--serve", str(out), "--server.port", str(server.port),
               "--server.address", "127.0.0.1", "--server.headless", "true"]
    log = server.log_path.open("ab")
    server.process = subprocess.Popen(command, cwd=ROOT, env=server.env, stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early; log:\n{server.log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("server did not start")


if __name__ == "__main__":
    sys.exit(main())
