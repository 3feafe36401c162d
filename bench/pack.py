"""Benchmark: a reimbursement pack made on the local backend, through the same path as the service.

Each scenario runs in a fresh Python process (this script runs itself once per scenario), so one
scenario's memory does not count in the next. That process is the service: ``create_app`` with a
temporary SQLite database and job folder, the local backend with ``JOB_WORKERS`` worker processes (2
unless ``--workers``), a user; the order (from ``bench/pack_data.py``, written to files by the parent
so that building it costs the measured process nothing) is POSTed to ``/api/v1/packs`` with Flask's
test client — as JSON when it fits a JSON body (5 000 agreements, 20 000 lines), else (or with
``--tables``) as multipart with its agreements and lines as CSV files, as a finance officer uploads
them — ``GET /api/v1/jobs/<id>`` is polled every 0.25 s until the job finishes, and the ZIP is
downloaded (streamed) and checked against the job's SHA-256 and the manifest. Measured:

- **POST** — the order request itself: JSON (or CSV) parsing and the validation of every line
  (``take_order``), the job recorded and its input written; an order above the JSON limits is only
  read and counted here and validated inside its job (in the documents phase's first seconds);
- **wall** — from the POST to the job seen finished, and documents (the job's ``total``) per second;
  the phases are the job's steps as seen by polling: the worker pool starting (``queued``), the
  documents, ``summary``, ``merging`` (PDF only), ``archive``;
- **memory** — a thread reads ``/proc`` of this process and all its descendants every 0.2 s: the peak
  RSS of the service process (``ru_maxrss``), the largest peak RSS of one job worker and of one
  LibreOffice process (``VmHWM``), and the peak of the sum over the whole process tree at one instant,
  as RSS and (sampled every second) as PSS: shared pages counted once, the most honest figure.
  ``getrusage(RUSAGE_CHILDREN)`` is printed too but stays 0: the job workers are children of
  multiprocessing's fork server, not of the service;
- **CPU** — the CPU seconds of the benchmark's processes by role and of the whole machine from the
  POST to the finished job: when others' share is large, the times are not to be trusted.

Scenarios: ``docx-1000`` (1 000 clients, 5 000 lines, DOCX only), ``pdf-1000`` (the same with a PDF of
every document and the merged ``pack.pdf``), ``docx-5000`` (5 000 clients, 4 lines each: 20 000 lines,
the most a JSON body may hold), ``pdf-5000`` (5 000 clients, 6 lines each: 30 000 lines, sent as CSV),
``pdf-10000`` and ``docx-10000`` (10 000 clients, 60 000 lines, as CSV) — all of them by default, about
25 minutes with PDF; ``--quick`` runs ``docx-50`` and ``pdf-50``. Run: ``.venv/bin/python -m bench.pack``
(``--quick``, ``--scenario NAME`` repeated, ``--clients N [--lines-per-client L] [--pdf]``, ``--tables``,
``--workers``, ``--batch``, ``--timeline FILE``: each scenario's PSS by role every second, as CSV).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service import jobs

ROOT = Path(__file__).resolve().parent.parent
RESULT = "RESULT "
POLL_S = 0.25
SAMPLE_S = 0.2
PSS_EVERY = 5  # samples: PSS (smaps_rollup) costs ~1 ms a process, RSS (status) ~20 µs
OFFICE_NAMES = ("soffice", "soffice.bin", "oosplash")
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Scenario:
    clients: int
    lines_per_client: int
    pdf: bool


SCENARIOS = {
    "docx-1000": Scenario(1000, 5, False),
    "pdf-1000": Scenario(1000, 5, True),
    "docx-5000": Scenario(5000, 4, False),  # 5 lines each would be 25 000 lines: above MAX_LINES (20 000)
    "pdf-5000": Scenario(5000, 6, True),  # 30 000 lines: CSV files
    "pdf-10000": Scenario(10000, 6, True),
    "docx-10000": Scenario(10000, 6, False),
    "docx-50": Scenario(50, 5, False),
    "pdf-50": Scenario(50, 5, True),
}
DEFAULT = ("docx-1000", "pdf-1000", "docx-5000", "docx-10000", "pdf-5000", "pdf-10000")
QUICK = ("docx-50", "pdf-50")


# -- the process tree ------------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as source:
            return source.read()
    except OSError:  # the process has gone
        return ""


def _processes() -> tuple[dict[int, list[int]], dict[int, list[str]]]:
    """Every process's children, and its ``/proc/<pid>/stat`` fields after the command name."""
    children: dict[int, list[int]] = {}
    stats: dict[int, list[str]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _read(f"/proc/{entry.name}/stat")
            if stat:
                fields = stat.rsplit(")", 1)[1].split()
                stats[int(entry.name)] = fields
                children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children, stats


def machine_busy_s() -> float:
    """CPU seconds the whole machine has been busy (all cores), from ``/proc/stat``."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, _read("/proc/stat").split()[1:9])
    return (user + nice + system + irq + softirq + steal) / TICKS


def _kib(text: str, key: str) -> int:
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


@dataclass
class Tree:
    """Peaks of this process's tree, sampled from ``/proc`` in a thread (figures in KiB).

    Roles: ``service`` (this process), ``forkserver`` (multiprocessing's, and the processes it forks
    are the job ``worker`` processes), ``office`` (the converters: ``uno_worker.py`` and LibreOffice
    below it), ``other`` (the resource tracker).
    """

    root: int = field(default_factory=os.getpid)
    interval: float = SAMPLE_S
    roles: dict[int, str] = field(default_factory=dict)
    hwm: dict[int, int] = field(default_factory=dict)
    role_peak: dict[str, int] = field(default_factory=dict)
    tree_rss: int = 0
    tree_pss: int = 0
    samples: int = 0
    office_homes: set[str] = field(default_factory=set)
    converters: set[int] = field(default_factory=set)
    cpu: dict[int, float] = field(default_factory=dict)
    #: with ``--timeline``: (seconds, PSS KiB of the service, the workers, the largest worker, the offices)
    timeline: list[tuple[float, int, int, int, int]] | None = None
    _started: float = field(default_factory=time.perf_counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    def start(self) -> Tree:
        self._thread = threading.Thread(target=self._run, name="bench-tree", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.sample()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _role(self, pid: int, parent_role: str) -> str:
        if pid == self.root:
            return "service"
        if parent_role == "forkserver":
            return "worker"
        if parent_role == "office":
            return "office"
        cmdline = _read(f"/proc/{pid}/cmdline").split("\0")
        comm = _read(f"/proc/{pid}/comm").strip()
        if any("uno_worker" in part for part in cmdline) or comm in OFFICE_NAMES:
            if "--profile" in cmdline:  # uno_worker.py: one converter (it restarts soffice.bin once)
                self.converters.add(pid)
                self.office_homes.add(str(Path(cmdline[cmdline.index("--profile") + 1]).parent))
            return "office"
        if any("multiprocessing.forkserver" in part for part in cmdline):
            return "forkserver"
        return "other"

    def sample(self) -> None:
        with self._lock:
            self._sample()

    def _sample(self) -> None:
        children, stats = _processes()
        stack = [(self.root, "")]
        rss_sum = pss_sum = 0
        self.samples += 1
        with_pss = self.samples % PSS_EVERY == 1
        by_role: dict[str, int] = {}
        pss_by_role: dict[str, int] = {}
        largest_worker = 0
        while stack:
            pid, parent_role = stack.pop()
            role = self.roles.get(pid) or self._role(pid, parent_role)
            status = _read(f"/proc/{pid}/status")
            if not status:
                continue
            self.roles[pid] = role
            rss = _kib(status, "VmRSS:")
            pss = _kib(_read(f"/proc/{pid}/smaps_rollup"), "Pss:") if with_pss else 0
            self.hwm[pid] = max(self.hwm.get(pid, 0), _kib(status, "VmHWM:"))
            if pid in stats:  # utime + stime
                self.cpu[pid] = max(
                    self.cpu.get(pid, 0.0), (int(stats[pid][11]) + int(stats[pid][12])) / TICKS
                )
            rss_sum, pss_sum = rss_sum + rss, pss_sum + pss
            by_role[role] = by_role.get(role, 0) + rss
            pss_by_role[role] = pss_by_role.get(role, 0) + pss
            largest_worker = max(largest_worker, pss if role == "worker" else 0)
            stack.extend((child, role) for child in children.get(pid, ()))
        self.tree_rss, self.tree_pss = max(self.tree_rss, rss_sum), max(self.tree_pss, pss_sum)
        for role, rss in by_role.items():
            self.role_peak[role] = max(self.role_peak.get(role, 0), rss)
        if with_pss and self.timeline is not None:
            roles = (pss_by_role.get(role, 0) for role in ("service", "worker"))
            moment = round(time.perf_counter() - self._started, 1)
            self.timeline.append((moment, *roles, largest_worker, pss_by_role.get("office", 0)))

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds the tree's processes have used (as last seen), by role."""
        with self._lock:
            used: dict[str, float] = {}
            for pid, seconds in self.cpu.items():
                used[self.roles[pid]] = used.get(self.roles[pid], 0.0) + seconds
            return used

    def largest(self, role: str) -> int:
        """The largest peak RSS (VmHWM) of one process in ``role``."""
        return max((kib for pid, kib in self.hwm.items() if self.roles.get(pid) == role), default=0)

    def alive(self, role: str) -> list[int]:
        """Processes of ``role`` seen so far that still run (anywhere: orphans are no longer ours)."""
        return [
            pid
            for pid, seen in self.roles.items()
            if seen == role and _read(f"/proc/{pid}/stat").rsplit(")", 1)[-1].split()[:1] not in ([], ["Z"])
        ]


def current_rss_kib() -> int:
    return _kib(_read("/proc/self/status"), "VmRSS:")


# -- one scenario, in its own process ------------------------------------------------------------------


class BenchFailed(Exception):
    pass


def run_scenario(
    order_dir: Path, workers: int, batch: int | None, timeout_s: float, timeline: Path | None = None
) -> dict[str, Any]:
    """Make one pack through the API (the order in ``order_dir``: ``order.json``, and the CSV files of
    its agreements and lines when it is sent as tables); the figures as a dict; with ``timeline``, the
    PSS by role at every PSS sample written there as CSV (phases' times in the figures)."""
    tree = Tree(timeline=[] if timeline else None).start()
    from bench.client import signed_in  # imported here: the tree sampler sees their memory too
    from service import create_app

    body = (order_dir / "order.json").read_bytes()
    tables = {path.stem: path.read_bytes() for path in sorted(order_dir.glob("*.csv"))}
    result: dict[str, Any] = {
        "order_bytes": len(body) + sum(map(len, tables.values())),
        "as_tables": bool(tables),
        "workers": workers,
        "load": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="veidlapas-bench-pack-") as tmp:
        config: dict[str, Any] = {
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'veidlapas.db'}",
            "JOBS_DIR": Path(tmp) / "jobs",
            "BLOBS_DIR": Path(tmp) / "blobs",
            "JOBS": "local",
            "JOB_WORKERS": workers,
        }
        if batch:
            config["PACK_BATCH"] = batch
        app = create_app(config)
        logging.getLogger("service.requests").setLevel(logging.WARNING)  # not a line per poll
        result["batch"] = app.config["PACK_BATCH"]
        client = signed_in(app)
        result["service_ready_mib"] = current_rss_kib() / 1024

        tree.sample()
        busy, ours = machine_busy_s(), tree.cpu_s()
        started = time.perf_counter()
        if tables:
            files = {key: (io.BytesIO(data), f"{key}.csv") for key, data in tables.items()}
            response = client.post(
                "/api/v1/packs", data={"order": body.decode(), **files}, content_type="multipart/form-data"
            )
        else:
            response = client.post("/api/v1/packs", data=body, content_type="application/json")
        posted = time.perf_counter()
        result["post_s"] = posted - started
        del body, tables
        if response.status_code != 202:
            raise BenchFailed(
                f"POST /api/v1/packs: {response.status_code} {response.get_data(as_text=True)[:800]}"
            )
        job, phases = poll(client, response.json["url"], posted, timeout_s)
        finished = time.perf_counter()
        result["wall_s"] = finished - started
        tree.sample()
        result["machine_cpu_s"] = machine_busy_s() - busy
        result["cpu_s"] = {role: seconds - ours.get(role, 0.0) for role, seconds in tree.cpu_s().items()}
        result["tree_cpu_s"] = sum(result["cpu_s"].values())
        result["phases"] = phases
        result["documents"] = job["total"]
        if job["state"] == "succeeded":
            result.update(download(client, job, Path(tmp) / "jobs" / job["id"] / "pack.zip"))
        else:
            result["error"] = f"job {job['state']}: {job['error']}"
        jobs.backend(app).wait()  # the job's process pool has exited
        time.sleep(1.0)  # converters whose worker exited get a moment to notice and quit
        tree.stop()
    result["service_peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["rusage_children_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result["worker_peak_mib"] = tree.largest("worker") / 1024
    result["workers_seen"] = sum(1 for role in tree.roles.values() if role == "worker")
    result["office_peak_mib"] = tree.largest("office") / 1024
    result["office_sum_peak_mib"] = tree.role_peak.get("office", 0) / 1024
    result["workers_sum_peak_mib"] = tree.role_peak.get("worker", 0) / 1024
    result["tree_rss_mib"] = tree.tree_rss / 1024
    result["tree_pss_mib"] = tree.tree_pss / 1024
    result["converters_started"] = len(tree.converters)
    result["left_running"] = {role: len(tree.alive(role)) for role in ("worker", "office")}
    result["office_homes_left"] = sorted(home for home in tree.office_homes if Path(home).exists())
    if timeline and tree.timeline is not None:
        rows = ["seconds,service_mib,workers_mib,largest_worker_mib,offices_mib"]
        rows += [",".join([str(t), *(f"{kib / 1024:.0f}" for kib in kibs)]) for t, *kibs in tree.timeline]
        timeline.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return result


def download(client, job: dict[str, Any], path: Path) -> dict[str, Any]:
    """Download the pack (streamed), check it against the job's SHA-256 and its manifest."""
    started = time.perf_counter()
    response = client.get(job["result"]["url"], buffered=False)
    digest, size = hashlib.sha256(), 0
    for chunk in response.iter_encoded():
        digest.update(chunk)
        size += len(chunk)
    response.close()
    took = time.perf_counter() - started
    if response.status_code != 200 or digest.hexdigest() != job["result"]["sha256"]:
        raise BenchFailed(f"download: {response.status_code}, SHA-256 differs from the job's")
    return {"download_s": took, "zip_bytes": size, **check_pack(path, job["total"])}


def poll(client, url: str, since: float, timeout_s: float) -> tuple[dict[str, Any], dict[str, float]]:
    """The finished job, and how long it spent in each state/step as seen by polling."""
    deadline = since + timeout_s
    phases: dict[str, float] = {}
    current, entered = "queued", since
    while True:
        job = client.get(url).json
        now = time.perf_counter()
        phase = (job["step"] or "running") if job["state"] == "running" else job["state"]
        if phase != current:
            phases[current] = phases.get(current, 0.0) + now - entered
            current, entered = phase, now
        if job["state"] not in ("queued", "running"):
            return job, phases
        if now > deadline:
            raise BenchFailed(f"job still {job['state']} ({job['step']}) after {timeout_s:.0f} s: {job}")
        time.sleep(POLL_S)


def check_pack(path: Path, documents: int) -> dict[str, Any]:
    """The pack's counts from its manifest, after checking the ZIP holds every document."""
    with zipfile.ZipFile(path) as pack:
        manifest = json.loads(pack.read("manifest.json"))
        names = pack.namelist()
    pdf = "pack.pdf" in names
    expected = documents * (2 if pdf else 1) + 2 + pdf  # + summary.xlsx, manifest.json (+ pack.pdf)
    if len(names) != expected or manifest["counts"]["documents"] != documents:
        raise BenchFailed(f"the ZIP holds {len(names)} members, {expected} expected")
    counts = manifest["counts"]
    return {"clients": counts["clients"], "lines": counts["lines"], "pdf": pdf, "members": len(names)}


# -- the driver ------------------------------------------------------------------------------------------


def run_in_child(name: str, scenario: Scenario, args: argparse.Namespace) -> dict[str, Any] | None:
    from bench.pack_data import order_tables, pack_order
    from schemas.reimbursement import MAX_AGREEMENTS, MAX_LINES

    with tempfile.TemporaryDirectory(prefix="veidlapas-bench-order-") as tmp:
        order = pack_order(scenario.clients, lines_per_client=scenario.lines_per_client, pdf=scenario.pdf)
        as_tables = (
            args.tables or len(order["agreements"]) > MAX_AGREEMENTS or len(order["lines"]) > MAX_LINES
        )
        if as_tables:
            order, files = order_tables(order)
            for key, data in files.items():
                (Path(tmp) / f"{key}.csv").write_bytes(data)
        (Path(tmp) / "order.json").write_text(json.dumps(order, ensure_ascii=False), encoding="utf-8")
        del order
        options = ["--workers", str(args.workers), "--timeout", str(args.timeout)]
        options += ["--batch", str(args.batch)] if args.batch else []
        options += ["--timeline", str(args.timeline.with_suffix(f".{name}.csv"))] if args.timeline else []
        command = [sys.executable, "-m", "bench.pack", "--child", tmp, *options]
        print(
            f"\n== {name}: {scenario.clients:,} clients, {scenario.lines_per_client} lines each, "
            f"{'DOCX + PDF' if scenario.pdf else 'DOCX only'}, {'as CSV' if as_tables else 'as JSON'}",
            flush=True,
        )
        done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    found = None
    for line in done.stdout.splitlines():
        if line.startswith(RESULT):
            found = json.loads(line[len(RESULT) :])
        else:
            print(line)
    if done.returncode != 0 or found is None:
        print(f"{name} FAILED (exit code {done.returncode})", flush=True)
        return None
    found["name"] = name
    print(detail(found), flush=True)
    if "error" in found:
        print(f"{name} FAILED: {found['error']}", flush=True)
        return None
    return found


def detail(r: dict[str, Any]) -> str:
    phases = [f"{phase} {seconds:.1f} s" for phase, seconds in r["phases"].items()]
    phases += [f"download {r['download_s']:.2f} s"] if "download_s" in r else []
    return (
        f"{r['name']}: order {r['order_bytes'] / 1e6:.2f} MB; POST {r['post_s']:.2f} s; {', '.join(phases)}\n"
        f"  service: {r['service_ready_mib']:.0f} MiB after start-up, peak {r['service_peak_mib']:.0f} MiB; "
        f"workers ({r['workers_seen']}): largest peak {r['worker_peak_mib']:.0f} MiB, "
        f"peak sum {r['workers_sum_peak_mib']:.0f} MiB; converters started {r['converters_started']}, "
        f"largest office process {r['office_peak_mib']:.0f} MiB, "
        f"office peak sum {r['office_sum_peak_mib']:.0f} MiB\n"
        f"  tree peak: RSS {r['tree_rss_mib']:.0f} MiB, PSS {r['tree_pss_mib']:.0f} MiB; "
        f"RUSAGE_CHILDREN {r['rusage_children_mib']:.0f} MiB; load at start {r['load']:.2f}\n"
        f"  CPU from the POST to the finished job: {r['tree_cpu_s']:.0f} s this benchmark's processes "
        f"({', '.join(f'{role} {seconds:.0f} s' for role, seconds in r['cpu_s'].items())}), "
        f"{r['machine_cpu_s'] - r['tree_cpu_s']:.0f} s others' (of {os.cpu_count() * r['wall_s']:.0f} s on "
        f"{os.cpu_count()} cores); "
        f"left running {r['left_running']}, converter folders left {len(r['office_homes_left'])}"
    )


def table(results: list[dict[str, Any]]) -> str:
    head = (
        "| scenario | clients | lines | documents | ZIP | POST | wall | docs/s | service peak | "
        "largest worker | tree peak RSS / PSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    )
    rows = [
        f"| {r['name']} | {r['clients']:,} | {r['lines']:,} | {r['documents']:,} | "
        f"{r['zip_bytes'] / 2**20:,.1f} MiB | {r['post_s']:.2f} s | {r['wall_s']:.1f} s | "
        f"{r['documents'] / r['wall_s']:.1f} | {r['service_peak_mib']:.0f} MiB | "
        f"{r['worker_peak_mib']:.0f} MiB | "
        f"{r['tree_rss_mib']:.0f} / {r['tree_pss_mib']:.0f} MiB |".replace(",", " ")
        for r in results
    ]
    return "\n".join((*head, *rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="repeatable")
    parser.add_argument("--quick", action="store_true", help=f"a smoke run: {', '.join(QUICK)}")
    parser.add_argument("--clients", type=int, help="a scenario of your own: this many clients")
    parser.add_argument("--lines-per-client", type=int, default=5)
    parser.add_argument("--pdf", action="store_true", help="with --clients: PDFs and pack.pdf too")
    parser.add_argument("--tables", action="store_true", help="send every order as CSV files")
    parser.add_argument("--workers", type=int, default=2, help="JOB_WORKERS (default 2)")
    parser.add_argument("--batch", type=int, help="PACK_BATCH (default: the service's)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds a job may take")
    parser.add_argument(
        "--timeline", type=Path, help="write each scenario's PSS by role over time to FILE.<scenario>.csv"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(
            RESULT
            + json.dumps(run_scenario(args.child, args.workers, args.batch, args.timeout, args.timeline)),
            flush=True,
        )
        return
    if args.clients:
        chosen = {
            f"{'pdf' if args.pdf else 'docx'}-{args.clients}": Scenario(
                args.clients, args.lines_per_client, args.pdf
            )
        }
    else:
        names = args.scenario or (QUICK if args.quick else DEFAULT)
        chosen = {name: SCENARIOS[name] for name in names}
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, JOB_WORKERS {args.workers}")
    results = [r for name, scenario in chosen.items() if (r := run_in_child(name, scenario, args))]
    print()
    print(table(results))
    if len(results) < len(chosen):
        sys.exit(1)


if __name__ == "__main__":
    main()
