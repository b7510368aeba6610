"""Connections to a PBX's CDR database (MariaDB/MySQL or PostgreSQL) for the FreePBX CDR connector.

Short-lived and read-only: an engine per connector instance, disposed after each use, so a
database that went away and came back is simply connected to again; the session itself is put
in read-only mode. Every failure becomes a :class:`ConnectorError` in words an admin understands,
and the password is never part of a message.
"""

from __future__ import annotations

import re

from sqlalchemy import create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ..i18n import N_
from .base import ConnectorError

CONNECT_TIMEOUT_S = 5  # a PBX on the LAN answers at once; a firewall dropping SYNs must not hang
QUERY_TIMEOUT_S = 30  # a look-back window is a few thousand rows; more means a missing index
# Bare dialect names would pick drivers Callback does not ship (MySQLdb, psycopg2).
DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mariadb+pymysql",
           "postgresql": "postgresql+psycopg", "postgres": "postgresql+psycopg"}
DEFAULT_PORTS = {"mysql": 3306, "mariadb": 3306, "postgresql": 5432}


def database_url(cdr_url: str, password: str = "") -> URL:
    """The URL to connect with: the password field, when set, wins over one in the URL."""
    try:
        url = make_url((cdr_url or "").strip())
    except ArgumentError:
        raise ConnectorError(N_("The CDR database URL is not valid; it looks like "
                                "mysql+pymysql://callback@pbx/asteriskcdrdb")) from None
    url = url.set(drivername=DRIVERS.get(url.drivername, url.drivername))
    if url.get_backend_name() not in DEFAULT_PORTS:
        raise ConnectorError(N_("%(backend)s is not supported: the CDR database must be "
                                "MariaDB/MySQL (mysql+pymysql://) or PostgreSQL "
                                "(postgresql+psycopg://).", backend=url.get_backend_name()))
    return url.set(password=password) if password else url


def masked(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def mask_url_text(cdr_url: str) -> str:
    """``cdr_url`` with any password in it replaced by ***, for forms and exports."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", cdr_url or "")


def make_engine(url: URL) -> Engine:
    backend = url.get_backend_name()
    if backend == "postgresql":
        args = {"connect_timeout": CONNECT_TIMEOUT_S,
                "options": f"-c default_transaction_read_only=on "
                           f"-c statement_timeout={QUERY_TIMEOUT_S * 1000}"}
    else:
        # PyMySQL reads the server's greeting under read_timeout, not connect_timeout.
        args = {"connect_timeout": CONNECT_TIMEOUT_S, "read_timeout": QUERY_TIMEOUT_S,
                "write_timeout": QUERY_TIMEOUT_S,
                "init_command": "SET SESSION TRANSACTION READ ONLY"}
    try:
        return create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=0,
                             connect_args=args)
    except (NoSuchModuleError, ImportError) as exc:
        raise ConnectorError(N_("The database driver for %(driver)s is not installed: "
                                "%(error)s", driver=url.drivername, error=str(exc))) from None


def failure_reason(exc: BaseException, url: URL) -> str:
    """What went wrong, in words, from a driver or SQLAlchemy error; never with the password."""
    orig = getattr(exc, "orig", None) or exc
    code = orig.args[0] if orig.args and isinstance(orig.args[0], int) else None
    text = str(orig).strip()
    if url.password:
        text = text.replace(str(url.password), "***")
    lower, first = text.lower(), (text.splitlines() or [type(orig).__name__])[0]
    where = f"{url.host or 'localhost'}:{url.port or DEFAULT_PORTS[url.get_backend_name()]}"
    user, database = url.username or "", url.database or ""
    # PyMySQL gives MySQL's error numbers; psycopg's connection errors carry no SQLSTATE, only
    # libpq's English text.
    if code in (1045, 1698) or "password authentication failed" in lower or (
            'role "' in lower and "does not exist" in lower):
        return N_("Access denied for user '%(user)s' on %(where)s: wrong user name or "
                  "password, or this user may not connect from Callback's host.",
                  user=user, where=where)
    if code == 1044 or "permission denied for database" in lower:
        return N_("Access denied for user '%(user)s' to database '%(database)s': grant it "
                  "SELECT.", user=user, database=database)
    if code == 1049 or ('database "' in lower and "does not exist" in lower):
        return N_("Unknown database '%(database)s' on %(where)s.", database=database,
                  where=where)
    if code in (1142, 1143) or "permission denied for" in lower:
        return N_("User '%(user)s' may not read a table it needs, grant it SELECT: %(error)s",
                  user=user, error=first)
    if "connection refused" in lower:
        return N_("Connection refused by %(where)s: is the database server running and "
                  "listening on that address and port?", where=where)
    if "timed out" in lower or "timeout expired" in lower:
        return N_("No answer from %(where)s within the timeout (%(connect)s s to connect, "
                  "%(read)s s to read): check the host, the port and any firewall.",
                  where=where, connect=CONNECT_TIMEOUT_S, read=QUERY_TIMEOUT_S)
    if "name or service not known" in lower or "resolve host" in lower or (
            "translate host name" in lower):
        return N_("Unknown host '%(host)s': the name does not resolve.", host=url.host)
    if code in (2006, 2013) or "server closed the connection" in lower:
        return N_("The connection to %(where)s was lost: %(error)s", where=where, error=first)
    return N_("Cannot read the CDR database %(url)s: %(error)s", url=masked(url), error=first)
