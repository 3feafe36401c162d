"""Benchmark: case records at a municipality's scale — finding a client and opening a client's plans.

Makes N clients (default 10 000: fictional Latvian names, valid old-format personal codes, each sealed
and tagged exactly as the API stores them) and V plan versions per client (default 3: 30 000 versions of
the sample plan, sealed, with their service lines), then times through the API (Flask's test client,
so token check, scope, audit entry and JSON included) R requests each of:

- ``GET /api/v1/clients?q=<personal code>`` — the exact code,
- ``GET /api/v1/clients?q=<3–6 letters>`` — a name's beginning (diacritics ignored),
- ``GET /api/v1/clients/<id>/plans`` — one client's plans with their versions.

SQLite in a temporary folder by default; ``--postgres`` starts a throw-away PostgreSQL server (the
tests' harness, Debian's binaries). Prints p50/p95 per request and the time the records took to make.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.client import signed_in
from schemas.personal_code import check_digit
from service import create_app
from service.auth import Principal
from service.cases import clients
from service.store import database, sealer
from service.store.case_models import Plan, PlannedService, PlanVersion
from service.store.models import User, new_id

ROOT = Path(__file__).resolve().parent.parent
GIVEN = ("Ēriks", "Anna", "Jānis", "Līga", "Ģirts", "Elīza", "Mārtiņš", "Žanete", "Kārlis", "Ināra", "Oskars")
FAMILY = ("Gailītis", "Ķirse", "Ozoliņš", "Bērziņa", "Kalniņš", "Šmite", "Ēcis", "Liepa", "Zariņa", "Čakste")


def personal_code(index: int) -> str:
    """A valid old-format code, different for each index (born 1950–1999)."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=index % 18_000)
    first_ten = f"{born:%d%m%y}1{index % 1000:03d}"
    return f"{first_ten[:6]}-{first_ten[6:]}{check_digit(first_ten)}"


def make_records(app, count: int, versions: int) -> tuple[list[str], list[str]]:
    """``count`` clients with ``versions`` plan versions each; their codes and ids."""
    plan = json.loads((ROOT / "samples" / "support-plan-adult-support-person.json").read_text("utf-8"))
    seals = sealer(app)
    codes, ids = [], []
    with database(app).session() as session:
        admin = session.query(User).filter_by(username="bench.bauska").one()
        user = Principal(admin.id, admin.username, admin.role, admin.municipality)
        for index in range(count):
            code = personal_code(index)
            record = {
                "name": f"{GIVEN[index % len(GIVEN)]} {FAMILY[index // len(GIVEN) % len(FAMILY)]}{index}",
                "personal_code": code,
                "declared_address": "Uzvaras iela 1, Bauska, LV-3901",
                "target_group": "adult_grt",
            }
            client = clients.add(session, seals, user, record)
            row = Plan(id=new_id(), municipality="bauska", client_id=client.id, latest_version=versions)
            session.add(row)
            for number in range(1, versions + 1):
                version = PlanVersion(
                    id=new_id(),
                    plan_id=row.id,
                    client_id=client.id,
                    municipality="bauska",
                    number=number,
                    state="approved" if number == versions else "superseded",
                    plan_number=plan["number"],
                    period_start=dt.date(2020, 2, 1),
                    period_end=dt.date(2021, 1, 31),
                    review_date=dt.date(2020, 7, 31),
                    monthly_budget="600.00",
                    period_budget="7200.00",
                    approved_by=user.id,
                    services=[
                        PlannedService(
                            line=1,
                            code="APLP",
                            unit="stunda",
                            quantity="16",
                            unit_price="11.50",
                            amount="184.00",
                            start=dt.date(2020, 2, 1),
                            end=dt.date(2021, 1, 31),
                        )
                    ],
                )
                version.sealed = seals.seal_json({"plan": plan, "note": ""}, version.seal_context())
                session.add(version)
            codes.append(code)
            ids.append(client.id)
            if index % 500 == 499:
                session.flush()
    return codes, ids


def timed(api, urls: list[str]) -> tuple[float, float]:
    timings = []
    for url in urls:
        started = time.perf_counter()
        answer = api.get(url)
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.json
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--versions", type=int, default=3, help="plan versions per client")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--postgres", action="store_true", help="on a throw-away PostgreSQL server")
    args = parser.parse_args()
    logging.getLogger("service.requests").setLevel(logging.WARNING)  # one line per request is not a figure
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        url = f"sqlite:///{folder / 'bench.db'}"
        if args.postgres:
            from tests.postgres import PostgresServer

            url = stack.enter_context(PostgresServer()).url
        app = create_app(
            {"DATABASE_URL": url, "JOBS_DIR": folder / "jobs", "DATA_KEY_FILE": None, "TESTING": True}
        )
        api = signed_in(app)
        started = time.perf_counter()
        codes, ids = make_records(app, args.clients, args.versions)
        made = time.perf_counter() - started
        print(
            f"{database(app).engine.dialect.name}: {args.clients:,} clients, "
            f"{args.clients * args.versions:,} plan versions made in {made:.1f} s"
        )
        draw = random.Random(7)
        picks = [draw.randrange(len(codes)) for _ in range(args.requests)]
        prefixes = [FAMILY[draw.randrange(len(FAMILY))][: draw.randint(3, 6)] for _ in range(args.requests)]
        rows = {
            "client search by personal code": [f"/api/v1/clients?q={codes[i]}" for i in picks],
            "client search by name prefix (20 a page)": [f"/api/v1/clients?q={p}" for p in prefixes],
            "one client's plans and versions": [f"/api/v1/clients/{ids[i]}/plans" for i in picks],
        }
        for name, urls in rows.items():
            p50, p95 = timed(api, urls)
            print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {len(urls)} |")
        database(app).engine.dispose()


if __name__ == "__main__":
    main()
