"""The administrators' pages: the municipality's users listed, added with a one-time link, disabled,
enabled, given a new link — their own municipality's users only."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from service import accounts, signin
from service.store import database
from service.store.models import AuditEntry, PasswordLink, Token, User, WebSession
from service.web.admin_users import LOCAL
from tests.web_helpers import PASSWORD, add_web_user, form_token, page_client, sign_in

USERS = "/administresana/lietotaji"
LINK = re.compile(r'id="f-link"[^>]* value="([^"]+)"')


def admin(app):
    return page_client(app, "administrator", "bauska")


def text(response) -> str:
    return response.get_data(as_text=True)


def post(client, url: str, **data):
    return client.post(url, data={"csrf_token": form_token(client, USERS), **data})


def user_id(app, username: str) -> int:
    with database(app).session() as session:
        return session.scalar(select(User.id).where(User.username == username))


def audited(app, action: str) -> list[AuditEntry]:
    with database(app).session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        session.expunge_all()
        return entries


def test_the_list_shows_the_municipalitys_users_with_role_state_and_date(app):
    client = admin(app)
    add_web_user(app, "ilze.bauska")
    add_web_user(app, "maris.liepaja", "social_worker", "liepaja")
    with database(app).session() as session:
        accounts.add_user(session, "janis.bauska", "finance_officer", "bauska")  # no password yet
        user = accounts.add_user(session, "peteris.bauska", "social_worker", "bauska")[0]
        user.disabled_at = dt.datetime.now(dt.UTC)
        locked = accounts.add_user(session, "anna.bauska", "social_worker", "bauska")[0]
        locked.password_hash = signin.HASHER.hash(PASSWORD)
        locked.locked_until = dt.datetime(2099, 1, 2, 10, 30, tzinfo=dt.UTC)
    response = client.get(USERS)
    assert response.status_code == 200
    html = text(response)
    assert "<title>Lietotāji — Administrēšana — Veidlapas</title>" in html
    assert "maris.liepaja" not in html
    rows = {
        found.group(1): found.group(2)
        for found in re.finditer(r'<th scope="row">([a-z.-]+).*?</th>(.*?)</tr>', html, re.S)
    }
    assert set(rows) == {
        "anna.bauska",
        "ilze.bauska",
        "janis.bauska",
        "peteris.bauska",
        "web-administrator.bauska",
    }
    assert "Sociālais darbinieks" in rows["ilze.bauska"] and "Aktīvs" in rows["ilze.bauska"]
    assert (
        "Finanšu speciālists" in rows["janis.bauska"] and "Parole vēl nav iestatīta" in rows["janis.bauska"]
    )
    assert "Atspējots" in rows["peteris.bauska"] and "Iespējot" in rows["peteris.bauska"]
    assert "Bloķēts līdz 02.01.2099. 12:30" in rows["anna.bauska"] and "Atbloķēt" in rows["anna.bauska"]
    assert f"<td>{dt.datetime.now(LOCAL):%d.%m.%Y.}</td>" in rows["ilze.bauska"]
    assert "Atspējot" not in rows["web-administrator.bauska"]  # nobody disables themselves


def test_only_administrators_reach_the_pages(app):
    worker = page_client(app, "social_worker")
    assert worker.get(USERS).status_code == 403
    assert "Administrēšana" not in text(worker.get("/"))
    assert 'href="/administresana/lietotaji"' in text(admin(app).get("/"))


def test_adding_a_user_shows_their_one_time_link_once(app):
    client = admin(app)
    response = post(client, USERS, username="Ilze.Berzina", role="social_worker")
    assert response.status_code == 200
    html = text(response)
    link = LINK.search(html).group(1)
    assert link.startswith("http://localhost/parole?kods=")
    assert "72 stundas" in html and "tikai šoreiz" in html
    with database(app).session() as session:
        user = session.scalar(select(User).where(User.username == "ilze.berzina"))
        assert (user.municipality, user.role, user.password_hash) == ("bauska", "social_worker", None)
        assert session.scalars(select(Token).where(Token.user_id == user.id)).all() == []
        assert session.scalar(select(PasswordLink).where(PasswordLink.user_id == user.id)).digest not in link
    created = audited(app, "user_created")[-1]
    assert (created.username, created.municipality) == ("web-administrator.bauska", "bauska")
    assert audited(app, "password_link_issued")[-1].object_id == created.object_id
    assert link.split("?")[1] not in text(client.get(USERS))
    opened = app.test_client().get(link.removeprefix("http://localhost"))
    assert opened.status_code == 200 and "ilze.berzina" in text(opened)


def test_a_refused_new_user_is_shown_at_its_fields_with_what_was_typed(app):
    client = admin(app)
    add_web_user(app, "ilze.bauska")
    add_web_user(app, "maris.liepaja", "social_worker", "liepaja")
    cases = [
        ({"username": "Ilze Bērziņa", "role": "social_worker"}, "f-username", "mazie latīņu burti"),
        ({"username": "maris.liepaja", "role": "social_worker"}, "f-username", "jau ir lietotājs"),
        ({"username": "jauns", "role": "reviewer"}, "f-role", "Izvēlieties lomu"),
        ({"username": "", "role": ""}, "f-username", "Šis lauks ir obligāts"),
    ]
    for form, field, message in cases:
        response = post(client, USERS, **form)
        html = text(response)
        assert response.status_code == 422, form
        assert "<title>Kļūda:" in html
        assert f'href="#{field}"' in html
        beside = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S).group(1)
        assert message in beside, (form, beside)
        if form["username"]:
            assert f'value="{form["username"]}"' in html
    assert len(audited(app, "user_created")) == 3  # the three users above; none refused


def test_disabling_ends_the_sessions_and_tokens_and_enabling_lets_them_back(app):
    client = admin(app)
    worker = page_client(app, "social_worker")
    with database(app).session() as session:
        user = session.scalar(select(User).where(User.username == "web-social-worker.bauska"))
        token = accounts.new_token(session, user.username)
        number = user.id
    bearer = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/v1/clients", headers=bearer).status_code == 200
    response = post(client, f"{USERS}/{number}/atspejot")
    assert response.status_code == 303 and response.headers["Location"].endswith("?done=disabled")
    assert "Lietotājs ir atspējots" in text(client.get(response.headers["Location"]))
    assert worker.get("/").status_code == 303
    assert app.test_client().get("/api/v1/clients", headers=bearer).status_code == 401
    with database(app).session() as session:
        assert all(
            found.ended_at
            for found in session.scalars(select(WebSession).where(WebSession.user_id == number))
        )
    assert audited(app, "user_disabled")[-1].object_id == str(number)
    assert sign_in(app.test_client(), "web-social-worker.bauska").status_code == 401
    refused = post(client, f"{USERS}/{number}/saite")
    assert refused.status_code == 409 and "ir atspējots" in text(refused)
    assert post(client, f"{USERS}/{number}/iespejot").status_code == 303
    assert audited(app, "user_enabled")[-1].object_id == str(number)
    assert app.test_client().get("/api/v1/clients", headers=bearer).status_code == 200
    assert sign_in(app.test_client(), "web-social-worker.bauska").status_code == 303


def test_an_administrator_cannot_disable_themselves(app):
    client = admin(app)
    me = user_id(app, "web-administrator.bauska")
    response = post(client, f"{USERS}/{me}/atspejot")
    assert response.status_code == 409
    assert "Savu kontu atspējot nevar" in text(response)
    assert client.get(USERS).status_code == 200  # still signed in
    assert audited(app, "user_disabled") == []


def test_another_municipalitys_user_is_not_found(app):
    client = admin(app)
    add_web_user(app, "maris.liepaja", "social_worker", "liepaja")
    other = user_id(app, "maris.liepaja")
    for action in ("saite", "atspejot", "iespejot", "atbloket"):
        assert post(client, f"{USERS}/{other}/{action}").status_code == 404, action
    assert audited(app, "user_disabled") == [] and audited(app, "password_link_issued") == []


def test_a_new_link_replaces_the_one_before(app):
    client = admin(app)
    add_web_user(app, "ilze.bauska")
    number = user_id(app, "ilze.bauska")
    first = LINK.search(text(post(client, f"{USERS}/{number}/saite"))).group(1)
    second = LINK.search(text(post(client, f"{USERS}/{number}/saite"))).group(1)
    assert first != second
    anyone = app.test_client()
    assert anyone.get(first.removeprefix("http://localhost")).status_code == 404
    assert anyone.get(second.removeprefix("http://localhost")).status_code == 200
