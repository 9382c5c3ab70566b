#!/usr/bin/env bash
# Installs moto_server (the AWS the tests talk to) in a virtualenv, once; prints its path.
#
#   MOTO_VENV   where the venv goes (default: ~/.cache/warroom/moto-venv)
#
# Idempotent: a venv that already has the pinned moto is left alone. The tests find the
# server through $MOTO_SERVER, else at $MOTO_VENV/bin/moto_server (default path above).
set -euo pipefail

MOTO_VERSION="5.2.5"
venv="${MOTO_VENV:-$HOME/.cache/warroom/moto-venv}"
server="$venv/bin/moto_server"

installed() {
    [ -x "$server" ] && [ -x "$venv/bin/python" ] &&
        [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ]
}

if ! installed; then
    mkdir -p "$(dirname "$venv")"
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv" >&2
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "moto[server]==$MOTO_VERSION" >&2
    installed || { echo "moto.sh: moto $MOTO_VERSION did not install in $venv" >&2; exit 1; }
fi

echo "$server"
