#!/usr/bin/env bash
# The team the tests share a journal with: real Unix accounts, made once, idempotently.
#   wr-ops: the operators' group (wr-op1, wr-op2); wr-obs: the observers' (wr-obs1);
#   wr-out: in neither. No home directories (-M): each test gives each account its own.
# Needs root; the tests that use these accounts skip without them (and fail under CI=true).
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "accounts.sh: needs root to create accounts; the team tests will be skipped" >&2
  exit 0
fi
groupadd -f wr-ops
groupadd -f wr-obs
make() { # name [supplementary group]
  if ! id -u "$1" >/dev/null 2>&1; then
    useradd -M -s /bin/sh ${2:+-G "$2"} "$1"
  elif [ -n "${2:-}" ]; then
    usermod -a -G "$2" "$1"
  fi
}
make wr-op1 wr-ops
make wr-op2 wr-ops
make wr-obs1 wr-obs
make wr-out
for u in wr-op1 wr-op2 wr-obs1 wr-out; do id "$u"; done
