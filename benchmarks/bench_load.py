"""Load test at the protocol level: N concurrent Streamlit sessions over websockets, no browsers.

Each session speaks Streamlit's own wire protocol (``/_stcore/stream``: ``BackMsg.rerun_script``
with a ``ClientState``; the server answers with ``ForwardMsg``s ending in ``script_finished``) and
does a seeded mix of actions, with an exponentially distributed think time (mean 3 s) between them:
    40%  Browse: reveal an answer (the button's fragment rerun, as the browser sends it)
    40%  Quiz: grade a card (reveal, then Good; a quiz is started, or a new one, when needed)
    20%  Lab: move the temperature slider (at the default settings otherwise)
Sessions start evenly over a 20 s ramp, then run 120 s; only reruns in the 120 s count. A rerun's
latency is from sending the BackMsg to its ``script_finished``. An error is a failed connection,
a rerun that does not finish in 30 s, an exception or an error message (st.error, e.g. a locked
store) shown by the page, or a missing widget.

    python benchmarks/bench_load.py                         50 sessions, one replica on SQLite
    python benchmarks/bench_load.py --sessions 80
    python benchmarks/bench_load.py --replicas 2 --postgres two replicas on one PostgreSQL

Last line: ``sessions N: p95 rerun X ms, p99 Y ms, errors E``. Budget: p95 <= 300 ms at N = 50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the tests' server helpers (StreamlitServer, PostgreSQL)
RAMP_S, RUN_S, THINK_MEAN_S, RERUN_TIMEOUT_S = 20.0, 120.0, 3.0, 30.0
MIX = (("browse", 0.4), ("quiz", 0.4), ("lab", 0.2))
BUDGET_P95_MS = 300.0
TEMPERATURES = (1.0, 1.5)


class Session:
    """One simulated learner on one server."""

    def __init__(self, base: str, rng: random.Random) -> None:
        self.url = base.replace("http://", "ws://") + "/_stcore/stream"
        self.rng = rng
        self.pages: dict[str, str] = {}  # url path -> page_script_hash
        self.widgets: dict[str, tuple[str, str]] = {}  # user key -> (widget id, fragment id)
        self.page = ""
        self.latencies: list[tuple[float, float, str]] = []  # (when sent, ms, page)
        self.errors = 0
        self.alerts = 0  # error messages shown by the page (st.error): counted with the errors
        self.wrong_on_purpose = False  # a numeric card answered wrong on purpose: red expected
        self.temperature = 0
        self.ws = None

    async def rerun(self, page: str, trigger: str | None = None, value=None) -> None:
        message = BackMsg()
        state = message.rerun_script
        state.page_script_hash = self.pages.get(page, "")
        state.query_string = "lang=en"
        fragment = ""
        if trigger is not None:
            if trigger not in self.widgets:
                raise LookupError(f"no widget {trigger!r} on {page!r}")
            widget_id, fragment = self.widgets[trigger]
            widget = state.widget_states.widgets.add()
            widget.id = widget_id
            if value is None:
                widget.trigger_value = True
            elif isinstance(value, str):
                widget.string_value = value
            else:
                widget.double_array_value.data.append(value)
        state.fragment_id = fragment
        if not fragment:
            self.widgets = {}
        sent = time.monotonic()
        await self.ws.send(message.SerializeToString())
        await asyncio.wait_for(self._until_finished(), RERUN_TIMEOUT_S)
        self.latencies.append((sent, (time.monotonic() - sent) * 1000, page or "Home"))
        self.page = page

    async def _until_finished(self) -> None:
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind in ("new_session", "navigation"):
                pages = getattr(msg, kind).app_pages
                self.pages.update({p.url_pathname: p.page_script_hash for p in pages})
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                inner = getattr(element, element.WhichOneof("type") or "empty", None)
                if element.WhichOneof("type") == "exception":
                    raise RuntimeError(f"the page failed: {element.exception.message}")
                if (element.WhichOneof("type") == "alert" and element.alert.format == Alert.ERROR
                        and not self.wrong_on_purpose):  # "Not quite" after our wrong number
                    self.alerts += 1  # a message in the page (a locked store): still an error
                    print(f"error alert: {element.alert.body!r}"[:200], file=sys.stderr)
                widget_id = getattr(inner, "id", "")
                if isinstance(widget_id, str) and widget_id.startswith("$$ID-"):
                    key = widget_id.split("-", 2)[2]
                    self.widgets[key] = (widget_id, msg.delta.fragment_id)
            elif kind == "script_finished":
                return

    async def act(self, action: str) -> None:
        if action == "browse":
            if self.page != "Browse" or not any(k.startswith("reveal-") for k in self.widgets):
                await self.rerun("Browse")
            reveals = sorted(k for k in self.widgets if k.startswith("reveal-"))
            await self.rerun("Browse", self.rng.choice(reveals))
        elif action == "quiz":
            if self.page != "Quiz":
                await self.rerun("Quiz")
            for start in ("quiz_new", "quiz_start"):
                if start in self.widgets:
                    await self.rerun("Quiz", start)
            number = next((k for k in self.widgets if k.startswith("quiz_number_")), None)
            if number is not None:  # a numeric card: the app grades the number itself
                await self.rerun("Quiz", number, "1")
                self.wrong_on_purpose = True   # the page answers a wrong number in red: expected
                try:
                    await self.rerun("Quiz", "quiz_check")
                finally:
                    self.wrong_on_purpose = False
                grade = next(k for k in self.widgets if k.startswith("quiz_grade_"))
                await self.rerun("Quiz", grade)
                return
            await self.rerun("Quiz", "quiz_reveal")
            await self.rerun("Quiz", "quiz_grade_3")
        else:
            if self.page != "Lab":
                await self.rerun("Lab")
            self.temperature += 1
            await self.rerun("Lab", "lab_temperature", TEMPERATURES[self.temperature % 2])

    async def run(self, start_at: float, stop_at: float) -> None:
        """Act until ``stop_at``; after an error, a new connection (a reload) resynchronises."""
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        while time.monotonic() < stop_at:
            try:
                async with websockets.connect(self.url, max_size=None, open_timeout=30) as ws:
                    self.ws, self.page, self.widgets = ws, "", {}
                    await self.rerun("")
                    await self._loop(stop_at)
            except (OSError, websockets.WebSocketException, TimeoutError, RuntimeError,
                    LookupError, IndexError) as exc:
                self.errors += 1
                print(f"error: {exc!r}"[:200], file=sys.stderr)

    async def _loop(self, stop_at: float) -> None:
        names, weights = zip(*MIX, strict=True)
        while True:
            await asyncio.sleep(self.rng.expovariate(1 / THINK_MEAN_S))
            if time.monotonic() >= stop_at:
                return
            await self.act(self.rng.choices(names, weights)[0])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 \
        else values[0]


async def drive(bases: list[str], sessions: int, seed: int, ramp: float = RAMP_S,
                run: float = RUN_S) -> tuple[list[float], int]:
    rng = random.Random(seed)
    begin = time.monotonic()
    measured_from, stop_at = begin + ramp, begin + ramp + run
    clients = [Session(bases[i % len(bases)], random.Random(rng.random()))
               for i in range(sessions)]
    await asyncio.gather(*(c.run(begin + ramp * i / sessions, stop_at)
                           for i, c in enumerate(clients)))
    measured = [(ms, page) for c in clients for sent, ms, page in c.latencies
                if sent >= measured_from]
    for name in sorted({page for _, page in measured}):
        mine = [ms for ms, page in measured if page == name]
        print(f"  {name:8s} {len(mine):5d} reruns, median {percentile(mine, 50):6.0f} ms, "
              f"p95 {percentile(mine, 95):6.0f} ms")
    return [ms for ms, _ in measured], sum(c.errors + c.alerts for c in clients)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="share one throwaway PostgreSQL")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ramp", type=float, default=RAMP_S, help="seconds (a quick check)")
    parser.add_argument("--run", type=float, default=RUN_S, help="seconds (a quick check)")
    args = parser.parse_args()
    from conftest import StreamlitServer

    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    env = {**os.environ, "ATTN_PREP_DB": str(work / "progress.sqlite3"), "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1"}
    database = None
    if args.postgres:
        from pg_server import PostgresServer

        database = PostgresServer()
        database.start()
        env["ATTN_PREP_DB_URL"] = database.new_database()
    servers = [StreamlitServer(env, work / f"replica{i}.log") for i in range(args.replicas)]
    try:
        for server in servers:
            server.start()
        latencies, errors = asyncio.run(drive([s.url for s in servers], args.sessions, args.seed,
                                           args.ramp, args.run))
    finally:
        for server in servers:
            server.stop()
        if database is not None:
            database.stop()
    shape = f"{args.replicas} replica(s) on {'PostgreSQL' if args.postgres else 'SQLite'}"
    p50, p95, p99 = (percentile(latencies, q) for q in (50, 95, 99))
    print(f"{shape}: {len(latencies)} reruns in {args.run:.0f} s, median {p50:.0f} ms "
          f"(budget: p95 <= {BUDGET_P95_MS:.0f} ms at 50 sessions)")
    print(f"sessions {args.sessions}: p95 rerun {p95:.0f} ms, p99 {p99:.0f} ms, errors {errors}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
