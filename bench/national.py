"""Benchmark: a national month — the packs of 40 municipalities made at once on the Celery backend.

The country: 30 000 clients and 150 000 delivery lines (5 a client) in 40 municipalities, sized as in
Latvia (:data:`TIERS`): one capital-like city of 8 000 clients, two large cities of 2 500 and 2 000
(Daugavpils-, Liepāja-like), ten towns of 800–1 400 and 27 small municipalities of 100–400. The sizes
of a tier are drawn with a seeded ``random.Random`` inside its range and then scaled to the tier's total,
so the same seed gives the same country. ``--scale F`` multiplies every size (at least 1 client each);
``--municipalities N`` takes N of the 40 spread evenly over the list from the largest down, so a short
run still mixes a city with small municipalities.

The municipalities file lists only Bauska and Liepāja, so each simulated municipality is an order of one
of them in turn (project IBM, period 2020-09, the Bauska sample's clients copied by
``bench/pack_data.py``), each sent by its own user of that municipality, with its own agreement numbers
and personal codes: what a pack costs depends on its clients, lines and documents, not on whose name it
prints. One order may hold at most ``--max-order-clients`` clients (default: the most an order from tables
takes, ``VEIDLAPAS_PACK_MAX_LINES`` ÷ lines a client, i.e. 24 000, so every municipality orders one
pack): a city above it orders in several packs, so the country's totals stay whole.
The cities send their order as an uploaded table (multipart, CSV files
"Līgumi" and "Rindas" as a finance officer's spreadsheet), as does any order over the JSON limits; the
others send JSON.

It runs as docs/deploy.md describes a deployment, on one machine: a throw-away PostgreSQL and Redis
(``tests/postgres.py``, ``tests/redis_server.py``), ``--workers`` processes of ``veidlapas worker
--concurrency C``, and this process as the web node (``create_app`` and Flask's test client). All
orders are POSTed at once, as on the morning the month's packs are due, then every unfinished job is
polled every 2 s.
Measured, from the first POST to the last job finished:

- **wall** and **documents per second**, in all and per worker (the parts each worker made, from its log,
  give its share);
- **CPU seconds** of the Celery processes and of LibreOffice, a document — the figure sizing is derived
  from, since it does not depend on how busy the machine is — and the whole machine's, to show others'
  share;
- **memory**: the largest peak RSS (``VmHWM``) of one Celery pool process and of one LibreOffice process,
  the median over the converters of their LibreOffice's peak (``soffice.bin``; a converter is replaced
  after ``VEIDLAPAS_PDF_RESTART_AFTER`` conversions, so this is its RSS after that many), and the peak of
  each worker's tree (RSS, and PSS every few samples);
- **disk**: each finished pack's job folder (its input, documents and ``pack.zip``) and the peak of the
  whole job folder during the run.

Each pack is checked: succeeded, its ZIP's manifest counting the clients and lines that were ordered.
Run: ``.venv/bin/python -m bench.national`` (full size: tens of minutes; ``--scale 0.05`` a few minutes;
``--pdf``, ``--workers``, ``--concurrency``, ``--municipalities``, ``--seed``). Not part of ``make test``;
``make bench-national`` runs it at full size.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import logging
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import zipfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.pack import Tree, machine_busy_s
from bench.pack_data import pack_order
from schemas.reimbursement import MAX_AGREEMENTS
from service.config import from_environment
from service.packs.tables import AGREEMENTS, LINES, table_rows

#: (tier, municipalities, total clients, smallest, largest): the country of 30 000 clients.
TIERS = (
    ("capital", 1, 8000, 8000, 8000),
    ("city", 2, 4500, 2000, 2500),
    ("town", 10, 11000, 800, 1400),
    ("small", 27, 6500, 100, 400),
)
TABLE_TIERS = ("capital", "city")  # a city's finance office uploads its spreadsheet
ROOT = Path(__file__).resolve().parent.parent
MUNICIPALITIES = ("bauska", "liepaja")
POLL_S = 2.0
DISK_EVERY_S = 10.0
SAMPLE_S = 0.5
PART_DONE = "veidlapas.job.part["


@dataclass(frozen=True)
class Municipality:
    tier: str
    clients: int


def country(seed: int = 14, scale: float = 1.0, count: int = 40) -> list[Municipality]:
    """The municipalities, the largest first: :data:`TIERS` drawn with ``seed``, scaled, ``count`` of them.

    >>> full = country()
    >>> len(full), sum(m.clients for m in full), full[0].clients, min(m.clients for m in full) >= 100
    (40, 30000, 8000, True)
    >>> [m.clients for m in country(scale=0.01, count=2)]
    [80, 3]
    """
    rng = random.Random(seed)
    sizes: list[tuple[str, int]] = []
    for tier, many, total, low, high in TIERS:
        drawn = [rng.uniform(low, high) for _ in range(many)]
        sizes += [(tier, size) for size in sorted(fitted(drawn, total, low, high), reverse=True)]
    picked = [sizes[round(i * len(sizes) / count)] for i in range(count)] if count < len(sizes) else sizes
    return [Municipality(tier, max(1, round(clients * scale))) for tier, clients in picked]


def fitted(drawn: list[float], total: int, low: int, high: int) -> list[int]:
    """Whole sizes in ``[low, high]`` adding up to ``total``, in the proportions of ``drawn`` as far as the
    bounds allow: a common factor found by bisection, each size clamped, then the largest remainders.

    >>> fitted([1.0, 2.0, 3.0], 600, 100, 250)
    [117, 233, 250]
    """

    def clamped(factor: float) -> list[float]:
        return [min(high, max(low, size * factor)) for size in drawn]

    below, above = 0.0, high / min(drawn)
    for _ in range(100):
        middle = (below + above) / 2
        below, above = (middle, above) if sum(clamped(middle)) < total else (below, middle)
    exact = clamped(above)
    whole = [int(size) for size in exact]
    for index in sorted(range(len(whole)), key=lambda i: whole[i] - exact[i])[: total - sum(whole)]:
        whole[index] += 1
    return whole


@dataclass
class Order:
    """One pack order as it will be sent, made before the clock starts."""

    number: int
    municipality: Municipality
    code: str  # the listed municipality it is sent as
    clients: int
    lines: int
    as_tables: bool
    json_body: bytes = b""
    form: dict[str, Any] = field(default_factory=dict)


def orders(
    municipalities: list[Municipality],
    *,
    lines_per_client: int,
    pdf: bool,
    max_order_clients: int,
    max_json_bytes: int,
    max_json_items: int,
) -> list[Order]:
    """Every municipality's order(s), each with its own agreement numbers and personal codes."""
    made: list[Order] = []
    for municipality in municipalities:
        left = municipality.clients
        while left:
            clients = min(left, max_order_clients)
            left -= clients
            number = len(made)
            code = MUNICIPALITIES[number % len(MUNICIPALITIES)]
            body = own_order(number, code, clients, lines_per_client, pdf)
            order = Order(number, municipality, code, clients, len(body["lines"]), False)
            order.json_body = json.dumps(body, ensure_ascii=False).encode()
            over_json = (
                len(order.json_body) > max_json_bytes
                or clients > MAX_AGREEMENTS
                or order.lines > max_json_items
            )
            if municipality.tier in TABLE_TIERS or over_json:
                order.as_tables, order.json_body = True, b""
                order.form = as_tables(body)
            made.append(order)
    return made


def own_order(number: int, code: str, clients: int, lines_per_client: int, pdf: bool) -> dict[str, Any]:
    """``bench/pack_data.py``'s order, renumbered for order ``number`` and sent as ``code``."""
    body = pack_order(clients, lines_per_client=lines_per_client, pdf=pdf)
    body["municipality"] = code
    renamed = {}
    for index, agreement in enumerate(body["agreements"]):
        own = f"N{number:02d}-L-{index:05d}"
        renamed[agreement["number"]] = own
        agreement["number"], agreement["plan_number"] = own, f"N{number:02d}-IAP-{index:05d}"
        agreement["client"]["personal_code"] = f"32{number:03d}{index:06d}"  # new format: no checksum
    for line in body["lines"]:
        line["agreement"] = renamed[line["agreement"]]
    return body


def as_tables(body: dict[str, Any]) -> dict[str, Any]:
    """The multipart form of an order: its header as JSON in ``order``, its lists as two CSV files."""
    header = {key: value for key, value in body.items() if key not in ("agreements", "lines")}
    form: dict[str, Any] = {"order": json.dumps(header, ensure_ascii=False)}
    for table in (AGREEMENTS, LINES):
        text = io.StringIO()
        writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
        writer.writerow([column.header for column in table.columns])
        writer.writerows(
            ["" if value is None else value for value in row] for row in table_rows(table, body[table.key])
        )
        form[table.key] = text.getvalue().encode("utf-8")
    return form


# -- measuring ---------------------------------------------------------------------------------------------


class WorkerTree(Tree):
    """A ``veidlapas worker``'s process tree: its main process (``celery``), the pool processes that make
    the documents (``worker``) and their converters (``office``), remembering which of those are
    LibreOffice itself (``soffice.bin``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.soffice: dict[int, int] = {}  # soffice.bin → its converter (uno_worker.py)

    def _role(self, pid: int, parent_role: str) -> str:
        role = super()._role(pid, parent_role)
        if role == "service":
            return "celery"
        stat = _stat(pid)
        if role == "office" and stat[:1] == ["soffice.bin"]:
            self.soffice[pid] = int(stat[2])
        return "worker" if parent_role == "celery" and role == "other" else role

    def converter_peaks(self) -> list[int]:
        """The peak RSS (KiB) of each converter's LibreOffice: the largest of the ``soffice.bin`` it ran (a
        converter starts it twice, the first time briefly)."""
        peaks: dict[int, int] = {}
        for pid, converter in self.soffice.items():
            peaks[converter] = max(peaks.get(converter, 0), self.hwm.get(pid, 0))
        return list(peaks.values())


def _stat(pid: int) -> list[str]:
    """The command name and the fields after it of ``/proc/<pid>/stat`` (the parent is the third)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(errors="replace")
    except OSError:
        return []
    name, rest = stat.split("(", 1)[1].rsplit(")", 1)
    return [name, *rest.split()]


def folder_bytes(folder: Path) -> int:
    """Disk used under ``folder`` (allocated blocks)."""
    used = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):  # removed meanwhile
                used += os.lstat(os.path.join(root, name)).st_blocks * 512
    return used


class DiskPeak:
    """The peak of a folder's disk use, looked at every few seconds in a thread."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.peak = folder, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-disk", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(DISK_EVERY_S):
            self.peak = max(self.peak, folder_bytes(self.folder))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, folder_bytes(self.folder))
        return self.peak


# -- the run -----------------------------------------------------------------------------------------------


class BenchFailed(Exception):
    pass


def run(args: argparse.Namespace) -> dict[str, Any]:
    from service import accounts, create_app
    from service.config import from_environment
    from service.store import database
    from tests.postgres import PostgresServer
    from tests.processes import VeidlapasProcess
    from tests.redis_server import RedisServer

    defaults = from_environment({})
    municipalities = country(args.seed, args.scale, args.municipalities)
    made = orders(
        municipalities,
        lines_per_client=args.lines_per_client,
        pdf=args.pdf,
        max_order_clients=args.max_order_clients,
        max_json_bytes=defaults["MAX_CONTENT_LENGTH"],
        max_json_items=defaults["MAX_JSON_ITEMS"],
    )
    print_country(municipalities, made, args)
    result: dict[str, Any] = {"load_before": os.getloadavg()}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="veidlapas-bench-national-")))
        postgres = stack.enter_context(PostgresServer())
        redis = stack.enter_context(RedisServer())
        jobs_dir = tmp / "jobs"
        settings = {
            "DATABASE_URL": postgres.url,
            "VEIDLAPAS_JOBS": "celery",
            "VEIDLAPAS_BROKER_URL": redis.url,
            "VEIDLAPAS_JOBS_DIR": str(jobs_dir),
            "VEIDLAPAS_LOG_FORMAT": "json",
            # the workers run this checkout's code, whichever one the ``veidlapas`` script was installed from
            "PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH")))),
        }
        app = create_app(
            {"DATABASE_URL": postgres.url, "JOBS": "celery", "BROKER_URL": redis.url, "JOBS_DIR": jobs_dir}
        )
        stack.callback(database(app).engine.dispose)
        logging.getLogger("service.requests").setLevel(logging.WARNING)  # not a line per poll
        result["batch"] = app.config["PACK_BATCH"]
        result["restart_after"] = app.config["PDF_RESTART_AFTER"]
        clients = {}
        with database(app).session() as session:
            for order in made:
                _, token = accounts.add_user(
                    session, f"bench.national.{order.number:02d}", "finance_officer", order.code
                )
                clients[order.number] = app.test_client()
                clients[order.number].environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        workers = []
        for number in range(args.workers):
            log = tmp / f"worker-{number + 1}.log"
            log.touch()
            worker = VeidlapasProcess(
                ["worker", f"--concurrency={args.concurrency}", "--name", f"national-{number + 1}@%h"],
                {**os.environ, **settings},
                log,
                lambda log=log: b" ready." in log.read_bytes(),
            )
            stack.callback(worker.stop)
            workers.append(worker)
        trees = [WorkerTree(root=worker.process.pid, interval=SAMPLE_S).start() for worker in workers]
        disk = DiskPeak(jobs_dir)
        for tree in trees:
            tree.sample()
        before = [tree.cpu_s() for tree in trees]  # start-up is not the packs' work
        result["load_start"] = os.getloadavg()
        busy, web = machine_busy_s(), time.process_time()
        started = time.perf_counter()
        urls = {order.number: post(clients[order.number], order) for order in made}
        result["post_s"] = time.perf_counter() - started
        finished = poll(clients, urls, started, args.timeout)
        result["wall_s"] = max(seen for _, seen in finished.values())
        result["machine_cpu_s"] = machine_busy_s() - busy
        result["web_cpu_s"] = time.process_time() - web
        result["load_end"] = os.getloadavg()
        result["disk_peak"] = disk.stop()
        result["packs"] = [
            check(order, *finished[order.number], jobs_dir, clients[order.number]) for order in made
        ]
        result["parts_by_worker"] = [w.log.read_text(errors="replace").count(PART_DONE) for w in workers]
        for worker in workers:
            worker.stop()
        time.sleep(1.0)
        for tree in trees:
            tree.stop()
        result.update(memory(trees, before))
    result.update(machine=f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")
    return result


def post(client, order: Order) -> str:
    if order.as_tables:
        form = {
            key: (io.BytesIO(value), f"{key}.csv") if isinstance(value, bytes) else value
            for key, value in order.form.items()
        }
        response = client.post("/api/v1/packs", data=form, content_type="multipart/form-data")
    else:
        response = client.post("/api/v1/packs", data=order.json_body, content_type="application/json")
    if response.status_code != 202:
        raise BenchFailed(
            f"order {order.number} ({order.clients} clients): {response.status_code} "
            f"{response.get_data(as_text=True)[:800]}"
        )
    return response.json["url"]


def poll(clients, urls: dict[int, str], since: float, timeout_s: float) -> dict[int, tuple[dict, float]]:
    """Each job once it left queued/running, with the seconds from ``since`` it was seen so."""
    done: dict[int, tuple[dict, float]] = {}
    while len(done) < len(urls):
        for number, url in urls.items():
            if number not in done:
                job = clients[number].get(url).json
                if job["state"] not in ("queued", "running"):
                    done[number] = job, time.perf_counter() - since
        if time.perf_counter() - since > timeout_s:
            raise BenchFailed(f"{len(urls) - len(done)} job(s) not finished after {timeout_s:.0f} s")
        time.sleep(POLL_S)
    return done


def check(order: Order, job: dict, seen_s: float, jobs_dir: Path, client) -> dict[str, Any]:
    """A finished pack's figures, after checking it succeeded and holds what was ordered."""
    if job["state"] != "succeeded":
        raise BenchFailed(
            f"order {order.number} ({order.clients} clients): job {job['state']}: {job['error']}"
        )
    folder = jobs_dir / job["id"]
    with zipfile.ZipFile(folder / "pack.zip") as pack:
        counts = json.loads(pack.read("manifest.json"))["counts"]
    if (counts["clients"], counts["lines"]) != (order.clients, order.lines):
        raise BenchFailed(f"order {order.number}: the pack counts {counts}, {order.clients} clients ordered")
    if client.get(job["result"]["url"], buffered=False).status_code != 200:
        raise BenchFailed(f"order {order.number}: the pack cannot be downloaded")
    return {
        "number": order.number,
        "tier": order.municipality.tier,
        "clients": order.clients,
        "lines": order.lines,
        "tables": order.as_tables,
        "documents": job["total"],
        "finished_s": seen_s,
        "folder_bytes": folder_bytes(folder),
        "zip_bytes": (folder / "pack.zip").stat().st_size,
    }


def memory(trees: list[WorkerTree], before: list[dict[str, float]]) -> dict[str, Any]:
    """The trees' memory peaks, and the CPU seconds they used since ``before``, by role."""
    peaks = [kib for tree in trees for kib in tree.converter_peaks()]
    cpu: dict[str, float] = {}
    for tree, base in zip(trees, before, strict=True):
        for role, seconds in tree.cpu_s().items():
            cpu[role] = cpu.get(role, 0.0) + seconds - base.get(role, 0.0)
    return {
        "worker_peak_mib": max(tree.largest("worker") for tree in trees) / 1024,
        "celery_peak_mib": max(tree.largest("celery") for tree in trees) / 1024,
        "office_peak_mib": max(tree.largest("office") for tree in trees) / 1024,
        "converters": len(peaks),
        "converter_median_mib": statistics.median(peaks) / 1024 if peaks else 0.0,
        "tree_rss_mib": max(tree.tree_rss for tree in trees) / 1024,
        "tree_pss_mib": max(tree.tree_pss for tree in trees) / 1024,
        "cpu_s": cpu,
    }


# -- the report --------------------------------------------------------------------------------------------


def print_country(municipalities: list[Municipality], made: list[Order], args: argparse.Namespace) -> None:
    by_tier: dict[str, list[int]] = {}
    for municipality in municipalities:
        by_tier.setdefault(municipality.tier, []).append(municipality.clients)
    print(
        f"{len(municipalities)} municipalities, {sum(m.clients for m in municipalities):,} "
        f"clients (seed {args.seed}, scale {args.scale}); {len(made)} orders "
        f"({sum(o.as_tables for o in made)} as CSV tables), {sum(o.lines for o in made):,} lines; "
        f"PDF {'yes' if args.pdf else 'no'}; {args.workers} worker(s) × concurrency {args.concurrency}"
    )
    for tier, sizes in by_tier.items():
        print(f"  {tier}: {len(sizes)} × {min(sizes)}–{max(sizes)} clients, {sum(sizes):,} in all")


def report(r: dict[str, Any], args: argparse.Namespace) -> str:
    packs = r["packs"]
    documents = sum(p["documents"] for p in packs)
    wall = r["wall_s"]
    rate = documents / wall
    parts = r["parts_by_worker"]
    shares = ", ".join(f"{rate * n / max(1, sum(parts)):.1f}" for n in parts)
    cpu = r["cpu_s"]
    ours = sum(cpu.values())
    folders = sorted(p["folder_bytes"] for p in packs)
    per_1000 = sum(folders) / sum(p["clients"] for p in packs) * 1000
    mib = 2**20
    lines = [
        f"{r['machine']}; batch {r['batch']}, converters restart after {r['restart_after']} conversions",
        f"load (1/5/15 min) before {fmt_load(r['load_before'])}, at the start {fmt_load(r['load_start'])}, "
        f"at the end {fmt_load(r['load_end'])}",
        f"POST of {len(packs)} orders: {r['post_s']:.1f} s; wall {wall:.1f} s to the last pack; "
        f"{documents:,} documents: {rate:.1f} documents/s in all, {rate / args.workers:.1f} a worker "
        f"(by parts made: {shares})",
        f"CPU: {ours:.0f} s this run's workers ({', '.join(f'{k} {v:.0f} s' for k, v in cpu.items())}), "
        f"{r['web_cpu_s']:.0f} s this process (the web node: orders, polling; and the samplers), "
        f"{r['machine_cpu_s'] - ours - r['web_cpu_s']:.0f} s the rest (PostgreSQL, Redis, others) "
        f"of {os.cpu_count() * wall:.0f} s; {1000 * ours / documents:.1f} CPU-ms a document "
        f"({1000 * cpu.get('worker', 0) / documents:.1f} Celery, "
        f"{1000 * cpu.get('office', 0) / documents:.1f} LibreOffice)",
        f"memory: largest pool process {r['worker_peak_mib']:.0f} MiB, "
        f"Celery main {r['celery_peak_mib']:.0f} MiB, largest office process {r['office_peak_mib']:.0f} MiB; "
        f"{r['converters']} converters started, their LibreOffice's peak median "
        f"{r['converter_median_mib']:.0f} MiB; "
        f"a worker's tree peak RSS {r['tree_rss_mib']:.0f} MiB, PSS {r['tree_pss_mib']:.0f} MiB",
        f"disk: job folder per pack median {statistics.median(folders) / mib:.1f} MiB, largest "
        f"{folders[-1] / mib:.1f} MiB, {per_1000 / mib:.1f} MiB per 1 000 clients; "
        f"all packs {sum(folders) / mib:.0f} MiB, peak during the run {r['disk_peak'] / mib:.0f} MiB",
        "",
        "| run (scale, workers × concurrency) | orders | clients | lines | documents | wall | docs/s | "
        "docs/s a worker | largest worker | largest LibreOffice | job folder per 1 000 clients |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {'PDF' if args.pdf else 'DOCX'} at {args.scale} on {args.workers}×{args.concurrency} | "
        f"{len(packs)} | {sum(p['clients'] for p in packs):,} | {sum(p['lines'] for p in packs):,} | "
        f"{documents:,} | {wall:.0f} s | {rate:.1f} | {rate / args.workers:.1f} | "
        f"{r['worker_peak_mib']:.0f} MiB | "
        f"{r['office_peak_mib']:.0f} MiB | {per_1000 / mib:.1f} MiB |".replace(",", " "),
    ]
    return "\n".join(lines)


def fmt_load(load: tuple[float, float, float]) -> str:
    return " / ".join(f"{value:.2f}" for value in load)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scale", type=float, default=1.0, help="every municipality's size × F (0.05: quick)"
    )
    parser.add_argument("--municipalities", type=int, default=40, help="how many of the 40 (spread)")
    parser.add_argument("--workers", type=int, default=2, help="veidlapas worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=1, help="each worker's --concurrency (default 1)")
    parser.add_argument("--pdf", action="store_true", help="a PDF of every document and pack.pdf too")
    parser.add_argument("--lines-per-client", type=int, default=5)
    parser.add_argument(
        "--max-order-clients",
        type=int,
        help="the most clients one order holds; a larger municipality orders several packs "
        "(default: the configured VEIDLAPAS_PACK_MAX_LINES ÷ lines a client, 24 000)",
    )
    parser.add_argument("--seed", type=int, default=14, help="the draw of the municipalities' sizes")
    parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds all packs may take")
    args = parser.parse_args()
    if (
        not 0 < args.scale <= 10
        or not 1 <= args.municipalities <= 40
        or min(args.workers, args.concurrency) < 1
    ):
        parser.error("--scale must be in (0, 10], --municipalities 1–40, --workers and --concurrency ≥ 1")
    limits = from_environment()
    most = min(limits["PACK_MAX_AGREEMENTS"], limits["PACK_MAX_LINES"] // args.lines_per_client)
    args.max_order_clients = args.max_order_clients or most
    from tests.postgres import PostgresUnavailable
    from tests.redis_server import RedisUnavailable

    try:
        result = run(args)
    except (BenchFailed, PostgresUnavailable, RedisUnavailable) as failed:
        print(f"FAILED: {failed}", flush=True)
        sys.exit(1)
    print(report(result, args))


if __name__ == "__main__":
    main()
