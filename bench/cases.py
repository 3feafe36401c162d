"""Benchmark: case records at a municipality's scale — finding a client, opening a client's plans and
budget, and the due-work lists.

Makes N clients (default 10 000: fictional Latvian names, valid old-format personal codes, each sealed
and tagged exactly as the API stores them) and V plan versions per client (default 3: 30 000 versions of
the sample plan, sealed, with their service lines), an agreement a client and an accepted act for every
month of its term with its delivered line (about 120 000, by bulk inserts), then times through the API
(Flask's test client, so token check, scope, audit entry and JSON included) R requests each of:

- ``GET /api/v1/clients?q=<personal code>`` — the exact code,
- ``GET /api/v1/clients?q=<3–6 letters>`` — a name's beginning (diacritics ignored),
- ``GET /api/v1/clients/<id>/plans`` — one client's plans with their versions,
- ``GET /api/v1/clients/<id>/budget`` — one client's budget: twelve months of planned, contracted and
  delivered figures,
- ``GET /api/v1/due-work?today=2020-10-05`` — reviews due (review dates spread over the year, so about
  one plan in nine is in the list), agreements ending in October (one in twelve) and agreements without
  an accepted act for September (one in fifty: their act was received, not accepted).

SQLite in a temporary folder by default; ``--postgres`` starts a throw-away PostgreSQL server (the
tests' harness, Debian's binaries). Prints p50/p95 per request and the time the records took to make.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import logging
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, select

from bench.client import signed_in
from schemas.lines import month_keys
from schemas.personal_code import check_digit
from service import create_app
from service.auth import Principal
from service.cases import clients
from service.packs.order import take_order
from service.store import database, sealer
from service.store.case_models import (
    Agreement,
    AgreementVersion,
    Client,
    ContractedService,
    DeliveredService,
    Plan,
    PlannedService,
    PlanVersion,
)
from service.store.models import Submission, User, new_id

ROOT = Path(__file__).resolve().parent.parent
GIVEN = ("Ēriks", "Anna", "Jānis", "Līga", "Ģirts", "Elīza", "Mārtiņš", "Žanete", "Kārlis", "Ināra", "Oskars")
FAMILY = ("Gailītis", "Ķirse", "Ozoliņš", "Bērziņa", "Kalniņš", "Šmite", "Ēcis", "Liepa", "Zariņa", "Čakste")
PERIOD = (dt.date(2020, 2, 1), dt.date(2021, 1, 31))
TODAY = dt.date(2020, 10, 5)
PROVIDER = "40009691053"


def bench_app(stack: ExitStack, postgres: bool = False):
    """An application on a throw-away database (SQLite in a temporary folder, or a PostgreSQL server the
    benchmark starts) that lives as long as ``stack``."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    url = f"sqlite:///{folder / 'bench.db'}"
    if postgres:
        from tests.postgres import PostgresServer

        url = stack.enter_context(PostgresServer()).url
    return create_app(
        {"DATABASE_URL": url, "JOBS_DIR": folder / "jobs", "DATA_KEY_FILE": None, "TESTING": True}
    )


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
            review = TODAY - dt.timedelta(days=10) + dt.timedelta(days=index * 37 % 330)
            row = Plan(
                id=new_id(),
                municipality="bauska",
                client_id=client.id,
                latest_version=versions,
                review_date=review,
            )
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
                    period_start=PERIOD[0],
                    period_end=PERIOD[1],
                    review_date=review,
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
                            start=PERIOD[0],
                            end=PERIOD[1],
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


def make_acts(app, ids: list[str]) -> tuple[int, int]:
    """For each client an agreement (every twelfth ends in October) with one APLP line, and an act for
    every month of its term: accepted with its delivered line, but one client in fifty's September act
    only received. Bulk inserts, sealed as stored; the numbers of agreements and accepted acts."""
    seals = sealer(app)
    accepted = 0
    with database(app).session() as session:
        approved = select(PlanVersion.client_id, PlanVersion.id, PlanVersion.plan_id)
        version_of = {
            row.client_id: row for row in session.execute(approved.where(PlanVersion.state == "approved"))
        }
        for batch in range(0, len(ids), 500):
            agreements, versions, lines, submissions, delivered = [], [], [], [], []
            for index in range(batch, min(batch + 500, len(ids))):
                client_id, agreement_id, version_id = ids[index], new_id(), new_id()
                end = dt.date(2020, 10, 31) if index % 12 == 0 else PERIOD[1]
                number = f"L-2020/{index + 1:05d}"
                agreements.append(
                    {
                        "id": agreement_id,
                        "municipality": "bauska",
                        "client_id": client_id,
                        "plan_id": version_of[client_id].plan_id,
                        "number": number,
                        "provider": PROVIDER,
                        "start": PERIOD[0],
                        "end": end,
                        "latest_version": 1,
                        "revision": 1,
                    }
                )
                versions.append(
                    {
                        "id": version_id,
                        "municipality": "bauska",
                        "agreement_id": agreement_id,
                        "plan_version_id": version_of[client_id].id,
                        "number": 1,
                        "start": PERIOD[0],
                        "end": end,
                        "total": "1656.00",
                        "sealed": seals.seal_json(
                            {"number": number}, f"agreement_versions.sealed:{version_id}"
                        ),
                    }
                )
                lines.append(
                    {
                        "version_id": version_id,
                        "line": 1,
                        "code": "APLP",
                        "unit": "stunda",
                        "quantity": "16",
                        "unit_price": "11.50",
                        "amount": "184.00",
                        "start": PERIOD[0],
                        "end": end,
                    }
                )
                for month in month_keys(PERIOD[0], end):
                    submission_id = new_id()
                    status = "received" if month == "2020-09" and index % 50 == 1 else "accepted"
                    submissions.append(
                        {
                            "id": submission_id,
                            "municipality": "bauska",
                            "sha256": hashlib.sha256(submission_id.encode()).hexdigest(),
                            "size": 225_068,
                            "file_type": "pdf",
                            "status": status,
                            "month": month,
                            "provider": PROVIDER,
                            "agreement_number": number,
                            "sealed": seals.seal_json(
                                {"month": month}, f"submissions.sealed:{submission_id}"
                            ),
                            "agreement_id": agreement_id,
                            "agreement_version": 1,
                            "client_id": client_id,
                        }
                    )
                    if status == "accepted":
                        units = 10 + index % 7
                        delivered.append(
                            {
                                "submission_id": submission_id,
                                "line": 1,
                                "client_id": client_id,
                                "agreement_id": agreement_id,
                                "month": month,
                                "code": "APLP",
                                "unit": "stunda",
                                "units": units,
                                "amount": f"{units * Decimal('11.50'):.2f}",
                            }
                        )
            for model, rows in (
                (Agreement, agreements),
                (AgreementVersion, versions),
                (ContractedService, lines),
                (Submission, submissions),
                (DeliveredService, delivered),
            ):
                session.execute(insert(model), rows)
            accepted += len(delivered)
    return len(ids), accepted


PACK_MUNICIPALITY = "liepaja"
PACK_ORDER = {"project": "IBM", "period": "2020-09", "date": "2020-10-08", "source": "submissions"}
PACK_DAYS = ("2020-09-01", "2020-09-08", "2020-09-15", "2020-09-22")


def make_pack_month(app, count: int) -> int:
    """A second municipality's September: ``count`` clients, each with an agreement and its accepted act
    as acceptance keeps it (the act sealed, its pack part sealed: the agreement's summary and four
    delivered APLP sessions of two hours). Bulk inserts; the number of acts."""
    act = json.loads((ROOT / "samples" / "delivery-act-adult-aplp.json").read_text("utf-8"))
    seals = sealer(app)
    rows: dict[type, list[dict]] = {model: [] for model in (Client, Plan, Agreement, Submission)}
    for index in range(count):
        client_id, plan_id, agreement_id, submission_id = new_id(), new_id(), new_id(), new_id()
        number = f"LVP-L-2020/{index + 1:04d}"
        rows[Client].append(
            {
                "id": client_id,
                "municipality": PACK_MUNICIPALITY,
                "code_tag": client_id,
                "sealed": seals.seal_json({}, f"clients.sealed:{client_id}"),
                "target_group": "adult_grt",
            }
        )
        rows[Plan].append(
            {"id": plan_id, "municipality": PACK_MUNICIPALITY, "client_id": client_id, "latest_version": 1}
        )
        rows[Agreement].append(
            {
                "id": agreement_id,
                "municipality": PACK_MUNICIPALITY,
                "client_id": client_id,
                "plan_id": plan_id,
                "number": number,
                "provider": PROVIDER,
                "start": PERIOD[0],
                "end": PERIOD[1],
                "latest_version": 1,
                "revision": 1,
            }
        )
        summary = {
            "number": number,
            "plan_number": f"IAP-2020/{index + 1:04d}",
            "client": {
                "personal_code": personal_code(50_000 + index),
                "name": f"{GIVEN[index % len(GIVEN)]} {FAMILY[index // len(GIVEN) % len(FAMILY)]}",
                "target_group": "adult_grt",
            },
            "term": {"start": PERIOD[0].isoformat(), "end": PERIOD[1].isoformat()},
            "services": [
                {
                    "code": "APLP",
                    "quantity": "16",
                    "start": PERIOD[0].isoformat(),
                    "end": PERIOD[1].isoformat(),
                }
            ],
        }
        lines = [{"agreement": number, "code": "APLP", "date": day, "units": "2"} for day in PACK_DAYS]
        part = {"project": "IBM", "agreement": summary, "lines": lines}
        rows[Submission].append(
            {
                "id": submission_id,
                "municipality": PACK_MUNICIPALITY,
                "sha256": hashlib.sha256(submission_id.encode()).hexdigest(),
                "size": 225_068,
                "file_type": "pdf",
                "status": "accepted",
                "month": "2020-09",
                "provider": PROVIDER,
                "agreement_number": number,
                "sealed": seals.seal_json(
                    {**act, "agreement": {**act["agreement"], "number": number}},
                    f"submissions.sealed:{submission_id}",
                ),
                "part": seals.seal_json(part, f"submissions.part:{submission_id}"),
                "agreement_id": agreement_id,
                "agreement_version": 1,
                "client_id": client_id,
            }
        )
    with database(app).session() as session:
        for model, batch in rows.items():
            for start in range(0, len(batch), 1000):
                session.execute(insert(model), batch[start : start + 1000])
    return count


def timed_order(app, runs: int) -> tuple[float, float, int]:
    """p50/p95 of taking the month's pack order from the accepted acts (select, open, validate the
    request), as ``POST /api/v1/packs`` does before its 202; and the order's line count."""
    timings, lines = [], 0
    for _ in range(runs):
        with database(app).session() as session:
            started = time.perf_counter()
            order = take_order({**PACK_ORDER, "municipality": PACK_MUNICIPALITY}, session, sealer(app))
            timings.append((time.perf_counter() - started) * 1000)
            lines = order.request["totals"]["lines"]
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)], lines


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
    parser.add_argument("--pack-clients", type=int, default=1_000, help="accepted acts of the pack's month")
    parser.add_argument("--pack-runs", type=int, default=10, help="pack orders timed")
    parser.add_argument("--postgres", action="store_true", help="on a throw-away PostgreSQL server")
    args = parser.parse_args()
    logging.getLogger("service.requests").setLevel(logging.WARNING)  # one line per request is not a figure
    with ExitStack() as stack:
        app = bench_app(stack, args.postgres)
        api = signed_in(app)
        started = time.perf_counter()
        codes, ids = make_records(app, args.clients, args.versions)
        made = time.perf_counter() - started
        print(
            f"{database(app).engine.dialect.name}: {args.clients:,} clients, "
            f"{args.clients * args.versions:,} plan versions made in {made:.1f} s"
        )
        started = time.perf_counter()
        agreements, acts = make_acts(app, ids)
        print(
            f"{agreements:,} agreements, {acts:,} accepted acts made in {time.perf_counter() - started:.1f} s"
        )
        draw = random.Random(7)
        picks = [draw.randrange(len(codes)) for _ in range(args.requests)]
        prefixes = [FAMILY[draw.randrange(len(FAMILY))][: draw.randint(3, 6)] for _ in range(args.requests)]
        rows = {
            "client search by personal code": [f"/api/v1/clients?q={codes[i]}" for i in picks],
            "client search by name prefix (20 a page)": [f"/api/v1/clients?q={p}" for p in prefixes],
            "one client's plans and versions": [f"/api/v1/clients/{ids[i]}/plans" for i in picks],
            "one client's budget (12 months)": [f"/api/v1/clients/{ids[i]}/budget" for i in picks],
            "due work (reviews, endings, missing acts)": [f"/api/v1/due-work?today={TODAY}"] * args.requests,
        }
        for name, urls in rows.items():
            p50, p95 = timed(api, urls)
            print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {len(urls)} |")
        make_pack_month(app, args.pack_clients)
        p50, p95, lines = timed_order(app, args.pack_runs)
        name = f"a month's pack order from {args.pack_clients:,} accepted acts ({lines:,} lines)"
        print(f"| {name} | {p50:.1f} ms | {p95:.1f} ms | {args.pack_runs} |")
        database(app).engine.dispose()


if __name__ == "__main__":
    main()
