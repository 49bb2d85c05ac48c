#!/usr/bin/env python3
"""Run a command against a throwaway PostgreSQL 15 cluster: initdb in a temp dir, start it on a
free port (as the `postgres` user when we are root: the server refuses root), export
DATABASE_URL, run the command, then stop the cluster and delete it.

    python scripts/with_pg.py -- pytest -q
    GONGHUI_PG_OPTS="-c shared_buffers=4GB" python scripts/with_pg.py -- python bench/run.py
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile


def pg_bindir() -> str:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), reverse=True)
    if not candidates:
        sys.exit("PostgreSQL server binaries not found: install Debian's `postgresql` package (make setup does).")
    return os.path.dirname(candidates[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> int:
    argv = sys.argv[1:]
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        sys.exit("usage: with_pg.py -- COMMAND ...")
    bindir = pg_bindir()
    as_root = os.geteuid() == 0
    runas: list[str] = []
    base = tempfile.mkdtemp(prefix="gonghui-pg-")
    datadir = os.path.join(base, "data")
    if as_root:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
        os.chmod(base, 0o755)
        runas = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    env = dict(os.environ, LC_ALL="C.UTF-8")
    try:
        subprocess.run(
            runas + [f"{bindir}/initdb", "-D", datadir, "-U", "gonghui", "--auth=trust", "--encoding=UTF8",
                     "--locale=C.UTF-8"],
            check=True, stdout=subprocess.DEVNULL, env=env,
        )
        opts = (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200 -c shared_buffers=256MB"
        )
        # Extra server options, appended (later -c wins): `make bench` passes memory settings for the
        # national-size dataset, e.g. GONGHUI_PG_OPTS="-c shared_buffers=4GB -c work_mem=64MB".
        extra = os.environ.get("GONGHUI_PG_OPTS", "").strip()
        if extra:
            opts += " " + extra
        subprocess.run(
            runas + [f"{bindir}/pg_ctl", "-D", datadir, "-o", opts, "-l", os.path.join(base, "server.log"), "-w", "start"],
            check=True, stdout=subprocess.DEVNULL, env=env,
        )
        subprocess.run([f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "gonghui", "gonghui"],
                       check=True, env=env)
        child_env = dict(os.environ, DATABASE_URL=f"postgres://gonghui@127.0.0.1:{port}/gonghui",
                         GONGHUI_PG_BINDIR=bindir, GONGHUI_PG_DATADIR=datadir, GONGHUI_PG_PORT=str(port))
        print(f"with_pg: PostgreSQL on 127.0.0.1:{port} ({datadir})", flush=True)
        return subprocess.call(argv, env=child_env)
    finally:
        if os.path.exists(os.path.join(datadir, "postmaster.pid")):
            subprocess.run(runas + [f"{bindir}/pg_ctl", "-D", datadir, "-m", "fast", "-w", "stop"],
                           stdout=subprocess.DEVNULL, env=env)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
