#!/usr/bin/env bash
# `make realworld`: serve blog-api on a fresh SQLite database and run the RealWorld (Conduit) API
# test suite against its RealWorld face (/api) with newman, the Postman collection runner.
# Everything it starts it stops; traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=tests/realworld
port=${REALWORLD_PORT:-18401}
collection=${REALWORLD_COLLECTION:-$here/Conduit.postman_collection.json}
if [[ ! -f $collection ]]; then
  echo "No RealWorld test suite at $collection: see $here/README.md for where to get it." >&2
  exit 2
fi
if [[ ! -x $here/node_modules/.bin/newman ]]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

work=$here/.work
rm -rf "$work"
mkdir -p "$work"
export ENVIRONMENT=test HOST=127.0.0.1 PORT=$port WORKERS=1 BCRYPT_ROUNDS=4 LOG_LEVEL=warning
export DATABASE_URL="sqlite:///$PWD/$work/realworld.db"
# One client address sends every request of the suite: raise the per-address limits.
export REGISTRATIONS_PER_ADDRESS=1000 LOGIN_ATTEMPTS_PER_ADDRESS=1000
.venv/bin/alembic upgrade head >"$work/migrate.log" 2>&1

# In a session of its own, so that stopping it stops the server and nothing else.
setsid .venv/bin/python -m blog_api serve >"$work/server.log" 2>&1 &
server=$!
trap 'kill -TERM -- "-$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$port/health/ready" >/dev/null || { cat "$work/server.log"; exit 1; }

user="u$(date +%s)"
"$here/node_modules/.bin/newman" run "$collection" \
  --global-var "APIURL=http://127.0.0.1:$port/api" \
  --global-var "USERNAME=$user" \
  --global-var "EMAIL=$user@mail.com" \
  --global-var "PASSWORD=password" \
  --reporters cli,json --reporter-json-export "$work/newman.json" "$@"
