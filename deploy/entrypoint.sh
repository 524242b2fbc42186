#!/bin/sh
# Entry point of the Kyra image: `kyra ARGS`. Before `kyra serve` on an empty volume, it
# creates the project (kyra.toml, secret key, database, default tenant) so the first start
# works with no step by hand; an existing project is left as it is.
set -eu
if [ "${1:-}" = "serve" ] && [ -z "${KYRA_DATABASE_URL:-}" ] && [ ! -f kyra.toml ]; then
  kyra init >/dev/null
fi
exec kyra "$@"
