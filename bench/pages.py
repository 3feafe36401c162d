"""Benchmark: the web pages at a municipality's scale — server time of a request, in process.

Makes N clients (default 10 000, as ``bench/cases.py`` makes them: sealed, tagged, with a plan version,
an agreement and an accepted act for every month of its term), signs a social worker in to the pages
(a session cookie, as the browser has it), and times with Flask's test client R requests each of:

- ``GET /klienti?lapa=<n>`` — a page of 50 of the list in Latvian name order (pages drawn at random);
  the first request, which opens every name to order them, is printed apart;
- ``GET /klienti?q=<3–6 letters>`` — a name search, ordered the same way;
- ``GET /klienti/<id>`` — a client's page: details, the plan's versions, the agreement, a year of
  accepted acts, the budget's chart and table;
- ``GET /plani/<plan_id>`` — the plan editor with a draft of 20 service rows.

SQLite in a temporary folder by default; ``--postgres`` starts a throw-away PostgreSQL server. Prints
p50/p95 per row, of the wall time and of the process's CPU time during the request (target: p95 ≤ 50 ms
each).
"""

from __future__ import annotations

import argparse
import logging
import random
import statistics
import time
from contextlib import ExitStack

from flask import Flask
from flask.testing import FlaskClient

from bench.cases import FAMILY, bench_app, make_acts, make_records
from bench.client import signed_in
from bench.render_documents import plan_with_rows
from service import accounts
from service.auth import SESSION_COOKIE, Principal, open_session
from service.cases import plans
from service.store import database, sealer
from service.store.case_models import Client
from service.store.models import User


def page_user(app: Flask, username: str = "bench.pages") -> FlaskClient:
    """A test client with the session cookie of a new Bauska social worker (signed in as the page does)."""
    with database(app).session() as session:
        accounts.add_user(session, username, "social_worker", "bauska")
        user = session.query(User).filter_by(username=username).one()
        cookie = open_session(session, Principal(user.id, user.username, user.role, user.municipality))
    client = app.test_client()
    client.set_cookie(SESSION_COOKIE, cookie, secure=True, httponly=True, samesite="Strict")
    return client


def draft_with_rows(app: Flask, client_id: str, rows: int) -> str:
    """A new plan of the client whose draft holds the sample plan with ``rows`` service rows; its id."""
    with database(app).session() as session:
        admin = session.query(User).filter_by(username="bench.bauska").one()
        user = Principal(admin.id, admin.username, admin.role, admin.municipality)
        client = session.get(Client, client_id)
        plan = plans.start(session, sealer(app), user, client)
        plans.save(plan, sealer(app), user, plan_with_rows(rows))
        session.flush()
        return plan.id


def percentiles(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def timed(pages: FlaskClient, urls: list[str]) -> tuple[float, float, float, float]:
    """p50 and p95 of each request's wall time, and of the process's CPU time during it (on a machine
    shared with other work, the CPU time is what the request itself costs)."""
    wall, cpu = [], []
    for url in urls:
        started, started_cpu = time.perf_counter(), time.process_time()
        answer = pages.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
        assert answer.status_code == 200, (url, answer.status_code, answer.get_data(as_text=True)[:300])
    return (*percentiles(wall), *percentiles(cpu))


def row(name: str, figures: tuple[float, ...], count: int) -> str:
    return f"| {name} | " + " | ".join(f"{figure:.1f} ms" for figure in figures) + f" | {count} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rows", type=int, default=20, help="service rows of the plan editor's draft")
    parser.add_argument("--postgres", action="store_true", help="on a throw-away PostgreSQL server")
    args = parser.parse_args()
    logging.getLogger("service.requests").setLevel(logging.WARNING)
    with ExitStack() as stack:
        app = bench_app(stack, args.postgres)
        signed_in(app)  # the administrator the records are made by
        started = time.perf_counter()
        _, ids = make_records(app, args.clients, 1)
        agreements, acts = make_acts(app, ids)
        print(
            f"{database(app).engine.dialect.name}: {args.clients:,} clients, {agreements:,} agreements, "
            f"{acts:,} accepted acts made in {time.perf_counter() - started:.1f} s"
        )
        pages = page_user(app)
        last_page = max(1, -(-args.clients // 50))
        started = time.perf_counter()
        assert pages.get("/klienti").status_code == 200
        first = (time.perf_counter() - started) * 1000
        print(f"first list request (every name opened and ordered): {first:.0f} ms")
        draw = random.Random(11)
        rows = {
            "a page of the client list (50 by name)": [
                f"/klienti?lapa={draw.randint(1, last_page)}" for _ in range(args.requests)
            ],
            "a name search, ordered by name": [
                f"/klienti?q={FAMILY[draw.randrange(len(FAMILY))][: draw.randint(3, 6)]}"
                for _ in range(args.requests)
            ],
            "a client's page (a year of accepted acts, budget chart)": [
                f"/klienti/{ids[draw.randrange(len(ids))]}" for _ in range(args.requests)
            ],
        }
        print("| request | p50 | p95 | CPU p50 | CPU p95 | requests |")
        for name, urls in rows.items():
            print(row(name, timed(pages, urls), len(urls)))
        plan_ids = [draft_with_rows(app, ids[index], args.rows) for index in range(min(5, len(ids)))]
        urls = [f"/plani/{plan_ids[index % len(plan_ids)]}" for index in range(args.requests)]
        print(row(f"the plan editor ({args.rows} service rows)", timed(pages, urls), len(urls)))
        database(app).engine.dispose()


if __name__ == "__main__":
    main()
