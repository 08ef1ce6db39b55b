"""Accounts have a lifecycle (issue 9, item 8), in the library and the CLI: case-insensitive
names, strong passwords, disable, enable, reset, role changes, soft delete, the security
events they write, and the migration that makes existing names case-insensitive."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from cnotrack import security_log, users
from cnotrack.errors import AccessError, StoreError, UserError
from cnotrack.store import open_store
from cnotrack.store.schema import audit_log, sessions

from conftest import migrate

STRONG = "violet tram under the quiet harbour"
OTHER = "seven lanterns drift over marble stairs"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr(users, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def people(store):
    admin = users.add_user(store, "chief", STRONG, "admin")
    rome = users.add_user(store, "Rome.Lab", STRONG, "investigator", "Rome")
    return store, admin, rome


def _events(store, admin, action=None):
    return security_log.security_events(store, admin, action=action, limit=0)


def _open_session(store, user) -> None:
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    with store.engine.begin() as conn:
        conn.execute(sessions.insert().values(token_sha256=f"{user.id}-{now.timestamp()}"[:64], user_id=user.id,
                                              csrf_token="c", created_at=now, expires_at=now + dt.timedelta(hours=1),
                                              last_seen_at=now))


def _session_count(store, user) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(sessions)
                            .where(sessions.c.user_id == user.id)).scalar()


def test_usernames_are_case_insensitive_for_login_add_and_every_lookup(people):
    store, _, rome = people
    assert users.authenticate(store, "rome.lab", STRONG).id == rome.id
    assert users.authenticate(store, "ROME.LAB", STRONG).username == "Rome.Lab"  # shown as it was given
    assert users.find_user(store, "rOmE.lAb").id == rome.id
    with pytest.raises(UserError, match="taken .*case-insensitive"):
        users.add_user(store, "rome.lab", OTHER, "viewer", "Rome")
    assert users.set_user_disabled(store, "ROME.lab").disabled


def test_the_database_itself_refuses_two_names_that_differ_only_in_case(people):
    store, _, _ = people
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(users.users.insert().values(username="CHIEF", username_key="chief", password_hash="x",
                                                 role="admin", created_at=sa.func.now(), disabled=False))


@pytest.mark.parametrize("password", ["password1234", "qwertyuiop123", "abcdefghijklmn", "aaaaaaaaaaaaaaaa",
                                      "abcabcabcabcabc", "1234567890123"])
def test_common_or_trivially_patterned_passwords_are_refused_with_zxcvbn_advice(store, password):
    with pytest.raises(UserError, match=r"too easy to guess \(strength [0-2] of 4") as refused:
        users.add_user(store, "newbie", password, "viewer", "Rome")
    message = str(refused.value)
    assert "four or more unrelated words" in message and len(message) > 80  # zxcvbn's warning or suggestions
    assert password not in message
    assert users.list_users(store) == []


@pytest.mark.parametrize("username,password", [("rossi.anna", "rossi.anna2024!"), ("rossi.anna", "AnnaRossi1999"),
                                               ("genoa", "cnotrackgenoa12"), ("genoa", "Cnotrack-Genoa-2024")])
def test_a_password_built_on_the_username_or_cnotrack_is_refused(store, username, password):
    with pytest.raises(UserError, match="too easy to guess|built on the username"):
        users.add_user(store, username, password, "viewer", "Genoa")


def test_a_strong_passphrase_is_accepted_and_short_or_empty_ones_refused(store):
    users.check_password(STRONG, "chief")
    users.check_password("correct horse battery staple", "rome")  # the web tests' PASSWORD
    with pytest.raises(UserError, match="at least 12"):
        users.check_password("Xq7!vB2#", "chief")
    with pytest.raises(UserError, match="empty"):
        users.check_password("   ", "chief")
    users.check_password("x" * 30 + STRONG * 20, "chief")  # long: zxcvbn sees its start only, no error


def test_disabling_ends_the_sessions_and_enabling_restores_the_account(people):
    store, admin, rome = people
    _open_session(store, rome)
    users.set_user_disabled(store, "rome.lab", actor="chief")
    assert _session_count(store, rome) == 0 and users.authenticate(store, "rome.lab", STRONG) is None
    users.set_user_disabled(store, "Rome.Lab", False, actor="chief")
    assert users.authenticate(store, "rome.lab", STRONG) is not None
    events = _events(store, admin)
    assert [(e["action"], e["actor"], e["key"]) for e in events[:2]] == [
        ("enable", "chief", {"username": "Rome.Lab"}), ("disable", "chief", {"username": "Rome.Lab"})]
    assert events[1]["before"]["status"] == "active" and events[1]["after"]["status"] == "disabled"


def test_a_reset_password_ends_the_sessions_and_only_the_new_password_works(people):
    store, admin, rome = people
    _open_session(store, rome)
    with pytest.raises(UserError, match="too easy"):
        users.reset_password(store, "rome.lab", "password1234")
    users.reset_password(store, "rome.lab", OTHER, actor="chief")
    assert _session_count(store, rome) == 0
    assert users.authenticate(store, "rome.lab", STRONG) is None and users.authenticate(store, "rome.lab", OTHER)
    assert _events(store, admin, "reset_password")[0]["actor"] == "chief"


def test_changing_ones_own_password_needs_the_current_one(people):
    store, admin, rome = people
    with pytest.raises(users.WrongPasswordError, match="current password"):
        users.change_password(store, rome, OTHER, OTHER + " again")
    with pytest.raises(UserError, match="too easy"):
        users.change_password(store, rome, STRONG, "password1234")
    _open_session(store, rome)
    users.change_password(store, rome, STRONG, OTHER)
    assert _session_count(store, rome) == 0 and users.authenticate(store, "rome.lab", OTHER)
    event = _events(store, admin, "password_change")[0]
    assert event["actor"] == "Rome.Lab" and STRONG not in str(event) and OTHER not in str(event)


def test_a_deleted_users_name_is_never_given_to_anyone_else(people):
    store, admin, rome = people
    _open_session(store, rome)
    deleted = users.delete_user(store, "rome.lab", actor="chief")
    assert deleted.deleted and deleted.disabled and _session_count(store, rome) == 0
    assert users.authenticate(store, "Rome.Lab", STRONG) is None and users.find_user(store, "rome.lab") is None
    for name in ("Rome.Lab", "ROME.LAB"):
        with pytest.raises(UserError, match="deleted; names are never reused"):
            users.add_user(store, name, OTHER, "viewer", "Genoa")
    with pytest.raises(users.NoSuchUserError):
        users.set_user_disabled(store, "rome.lab", False)  # a deleted user cannot be enabled again
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(users.users.c.password_hash).where(users.users.c.id == rome.id)).scalar()
    assert not stored.startswith("$argon2")  # the hash is erased
    assert [u.status for u in users.list_users(store)] == ["active", "deleted"]


def test_role_and_center_changes_are_checked_and_audited(people):
    store, admin, rome = people
    with pytest.raises(UserError, match="--center"):
        users.update_user(store, "chief", role="viewer")
    viewer = users.update_user(store, "rome.lab", role="viewer", center="Genoa", actor="chief")
    assert (viewer.role, viewer.center) == (users.Role.viewer, "Genoa")
    event = _events(store, admin, "role_change")[0]
    assert event["before"] == {"role": "investigator", "center": "Rome", "status": "active"}
    assert event["after"] == {"role": "viewer", "center": "Genoa", "status": "active"}


def test_the_last_enabled_admin_cannot_be_disabled_deleted_or_demoted(people):
    store, _, _ = people
    for change in (lambda: users.set_user_disabled(store, "chief"), lambda: users.delete_user(store, "chief"),
                   lambda: users.update_user(store, "chief", role="viewer", center="Rome")):
        with pytest.raises(UserError, match="last enabled admin"):
            change()
    users.add_user(store, "deputy", OTHER, "admin")
    assert users.set_user_disabled(store, "chief").disabled


def test_security_events_are_for_admins_and_kept_apart_from_the_records_trail(people):
    from cnotrack import records

    store, admin, rome = people
    users.set_user_disabled(store, "rome.lab", actor="chief")
    with pytest.raises(AccessError):
        security_log.security_events(store, rome)
    with store.engine.connect() as conn:
        kinds = conn.execute(sa.select(audit_log.c.kind, audit_log.c.table_name)).all()
    assert set(kinds) == {("security", "users")}
    viewer = users.User(99, "v", users.Role.viewer, "Rome", rome.created_at)
    assert records.audit_trail(store, viewer) == []


def _alembic(url: str, revision: str) -> None:
    migrate(url, revision)


def _old_user(url: str, name: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (username, password_hash, role, center, created_at, disabled) "
                             "VALUES (:n, 'x', 'admin', NULL, CURRENT_TIMESTAMP, :f)"), {"n": name, "f": False})
    engine.dispose()


def test_the_migration_makes_existing_names_case_insensitive(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _alembic(url, "0004")
    _old_user(url, "Rome")
    with open_store(url) as store:
        assert users.find_user(store, "ROME").username == "Rome"
        with pytest.raises(UserError, match="taken"):
            users.add_user(store, "rome", STRONG, "admin")


def test_the_migration_refuses_names_that_collide_in_case_and_changes_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _alembic(url, "0004")
    _old_user(url, "Rome")
    _old_user(url, "rome")
    with pytest.raises(StoreError, match="differ only in case: Rome, rome; nothing was changed"):
        open_store(url)
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == "0004"
    engine.dispose()


def test_cnotrack_users_disable_enable_reset_password_set_role_and_delete(tmp_path):
    db = f"sqlite:///{tmp_path / 'users.db'}"

    def run(*args, stdin=""):
        return subprocess.run([str(Path(sys.executable).parent / "cnotrack"), "users", *args, "--db", db],
                              input=stdin, capture_output=True, text=True,
                              env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})

    assert run("add", "chief", "--role", "admin", "--password-stdin", stdin=STRONG + "\n").returncode == 0
    assert run("add", "Anna", "--role", "viewer", "--center", "Rome", "--password-stdin",
               stdin=STRONG + "\n").returncode == 0
    weak = run("add", "bob", "--role", "admin", "--password-stdin", stdin="password1234\n")
    assert weak.returncode == 1 and weak.stderr.startswith("Error: the password is too easy to guess")
    assert run("disable", "ANNA").returncode == 0 and "disabled" in run("list").stdout
    assert run("enable", "anna").returncode == 0
    no_stdin = run("reset-password", "anna")
    assert no_stdin.returncode == 1 and "--password-stdin" in no_stdin.stderr
    assert run("reset-password", "anna", "--password-stdin", stdin=OTHER + "\n").returncode == 0
    assert run("set-role", "anna", "--role", "investigator", "--center", "Genoa").returncode == 0
    last = run("delete", "chief")
    assert last.returncode == 1 and "last enabled admin" in last.stderr
    assert run("delete", "anna").returncode == 0
    again = run("add", "anna", "--role", "viewer", "--center", "Rome", "--password-stdin", stdin=STRONG + "\n")
    assert again.returncode == 1 and "never reused" in again.stderr
    missing = run("disable", "nobody")
    assert missing.returncode == 1 and "no user named 'nobody'" in missing.stderr
    with open_store(db) as store:
        anna = users.get_user(store, 2)
        assert (anna.role.value, anna.center, anna.deleted) == ("investigator", "Genoa", True)
        actions = [e["action"] for e in security_log.security_events(store, users.find_user(store, "chief"))]
    assert actions == ["delete", "role_change", "reset_password", "enable", "disable", "add", "add"]
