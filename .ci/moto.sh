#!/usr/bin/env bash
# Installs moto_server (the AWS the tests talk to) and jsonschema (the schema test's
# validator) in a virtualenv, once; prints moto_server's path.
#
#   MOTO_VENV   where the venv goes (default: ~/.cache/warroom/moto-venv)
#
# Idempotent: a venv that already has the pinned moto is left alone (a fraction of a second).
# The tests find the server through $MOTO_SERVER, else at $MOTO_VENV/bin/moto_server (so
# CI does: export MOTO_SERVER="$(bash .ci/moto.sh)"). Everything but the path goes to stderr.
set -euo pipefail

# 5.2.5: the newest on PyPI when this was written; the tests pass against it (RDS, CloudWatch
# query protocol, IAM authentication after INITIAL_NO_AUTH_ACTION_COUNT requests).
MOTO_VERSION="5.2.5"
venv="${MOTO_VENV:-$HOME/.cache/warroom/moto-venv}"
server="$venv/bin/moto_server"

installed() {
    [ -x "$server" ] &&
        [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ] &&
        "$venv/bin/python" -c 'import jsonschema' 2>/dev/null
}

if ! installed; then
    # A venv whose python no longer runs (its interpreter went away) is made anew.
    if [ -e "$venv" ] && ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
        rm -rf "$venv"
    fi
    if [ ! -x "$venv/bin/python" ]; then
        mkdir -p "$(dirname "$venv")"
        made=""
        for py in python3 /usr/bin/python3; do
            if command -v "$py" >/dev/null && "$py" -m venv "$venv" >&2; then
                made=1
                break
            fi
            rm -rf "$venv"
        done
        [ -n "$made" ] || { echo "moto.sh: cannot make a venv (python3 -m venv; Debian: apt-get install python3-venv)" >&2; exit 1; }
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "moto[server]==$MOTO_VERSION" jsonschema >&2
    installed || { echo "moto.sh: moto $MOTO_VERSION did not install in $venv" >&2; exit 1; }
fi

echo "$server"
