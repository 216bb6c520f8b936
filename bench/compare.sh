#!/usr/bin/env bash
# Side-by-side: server CPU per complete login of xacthuc and of node-oidc-provider, measured on
# this machine in the same run.
#
#   bench/compare.sh                       # xacthuc dev (SQLite + in-process store)
#   bench/compare.sh --backend serve       # xacthuc serve (PostgreSQL + Redis on 127.0.0.1)
#   COMPARE_LOGINS=3000 COMPARE_USERS=16 COMPARE_ROUNDS=2 bench/compare.sh
#
# What it does: installs npm `oidc-provider` into a scratch folder; builds xacthuc, the mocks and
# xacthuc-bench in release; starts the national-system mocks as their own process
# (`xacthuc-mocks all`) and xacthuc pointed at them (every login is a new citizen of the mocks'
# synthetic population, first login, with consent); registers a client with `xacthuc clients add`;
# starts the peer (bench/peer/node-oidc-provider.mjs); warms both up; then runs the same scenario
# (bench/scenarios/citizen-login.toml) against each, alternating, ROUNDS times, and prints server
# CPU per complete login (and per other operation in COMPARE_KINDS) for each and the ratio.
# Reports (JSON, SVG) go to $OUT.
#
# Environment: COMPARE_LOGINS (2000 per measured run), COMPARE_USERS (8 virtual users),
# COMPARE_ROUNDS (1), COMPARE_KINDS ("login"; add sso_login, client_credentials, refresh,
# userinfo to measure those operations too, COMPARE_LOGINS of each), COMPARE_WARMUP (200
# logins), COMPARE_SPIKE (e.g. 10000/10s: then an open-model spike against each, reporting
# time-to-tokens), COMPARE_OUT (target dir's bench-compare/),
# COMPARE_PEER_STORE_MAX (the peer's in-memory store size; stock: 1000 entries, an LRU that
# loses logins beyond ~200 in flight, so give e.g. 1000000 with a spike), OIDC_PROVIDER_VERSION (9.13.3), PG_URL (postgres://postgres@127.0.0.1:5432, serve only),
# REDIS_URL (redis://127.0.0.1:6379, serve only), KEEP=1 keeps the scratch folder.
# Only loopback addresses are used; every process started here is stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BACKEND=dev
while (($#)); do
  case $1 in
    --backend) BACKEND=${2:?--backend dev|serve}; shift 2 ;;
    --backend=*) BACKEND=${1#*=}; shift ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ $BACKEND == dev || $BACKEND == serve ]] || { echo "compare.sh: --backend dev or serve" >&2; exit 2; }
LOGINS=${COMPARE_LOGINS:-2000}
USERS=${COMPARE_USERS:-8}
ROUNDS=${COMPARE_ROUNDS:-1}
KINDS=${COMPARE_KINDS:-login}
WARMUP=${COMPARE_WARMUP:-200}
VERSION=${OIDC_PROVIDER_VERSION:-9.13.3}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
OUT=${COMPARE_OUT:-$TARGET_DIR/bench-compare}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432}
REDIS=${REDIS_URL:-redis://127.0.0.1:6379}
SPIKE=${COMPARE_SPIKE:-}
SPIKE_COUNT=${SPIKE%%/*}
CITIZENS=$((WARMUP + LOGINS * ROUNDS * 12 / 10 + ${SPIKE_COUNT:-0} * 12 / 10 + 2000))
BIN=$TARGET_DIR/release
SCENARIO=$ROOT/bench/scenarios/citizen-login.toml

say() { printf '\n--> %s\n' "$*" >&2; }
die() { echo "compare.sh: $*" >&2; exit 1; }
for tool in node npm cargo python3 curl; do command -v $tool >/dev/null || die "$tool is not installed"; done
if [[ $BACKEND == serve ]]; then command -v psql >/dev/null || die "psql is needed for --backend serve"; fi

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/xacthuc-compare.XXXXXX")
PIDS=()
DB=
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ -n $DB ]]; then psql "$PG_URL/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  if [[ ${KEEP:-0} == 1 ]]; then echo "scratch kept: $SCRATCH" >&2; else rm -rf "$SCRATCH"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$OUT"

say "npm: oidc-provider@$VERSION into $SCRATCH/peer"
mkdir -p "$SCRATCH/peer"
(cd "$SCRATCH/peer" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "oidc-provider@$VERSION" >/dev/null) \
  || die "npm install oidc-provider failed"
cp "$ROOT/bench/peer/node-oidc-provider.mjs" "$SCRATCH/peer/"

say "build (release): xacthuc, xacthuc-mocks, xacthuc-bench"
cargo build --release -q -p xacthuc -p xacthuc-mocks -p xacthuc-bench || die "cargo build failed"

read -r P_OP P_VNEID P_POP P_CA P_VNEID_IN P_POP_IN P_CA_IN P_PORTAL P_NODE P_METRICS < <(python3 - <<'PY'
import socket
socks = []
for _ in range(10):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
)
wait_http() { # url pid what
  for _ in $(seq 1 600); do
    kill -0 "$2" 2>/dev/null || die "$3 exited; see $SCRATCH (KEEP=1 keeps it)"
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  die "$3 did not answer at $1"
}
cpu_ticks() { awk '{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
rss_mib() { awk '/^VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

say "the e-ID client key of xacthuc (private_key_jwt toward the mock e-ID)"
node - "$SCRATCH/eid-client.pem" "$SCRATCH/eid-client.jwk.json" <<'JS'
const c = require('crypto'), fs = require('fs');
const { privateKey, publicKey } = c.generateKeyPairSync('ec', { namedCurve: 'P-256' });
fs.writeFileSync(process.argv[2], privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
const j = publicKey.export({ format: 'jwk' });
// kid: the RFC 7638 thumbprint, as xacthuc names its key.
const kid = c.createHash('sha256').update(JSON.stringify({ crv: j.crv, kty: j.kty, x: j.x, y: j.y })).digest('base64url');
fs.writeFileSync(process.argv[3], JSON.stringify({ ...j, kid, alg: 'ES256', use: 'sig' }));
JS
POP_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
python3 - "$SCRATCH" "$P_OP" "$P_VNEID" "$P_POP" "$P_CA" "$CITIZENS" "$POP_KEY" <<'PY'
import json, sys
d, op, vneid, pop, ca, n, key = sys.argv[1:]
jwk = json.load(open(f"{d}/eid-client.jwk.json"))
cfg = {
    "data_dir": f"{d}/mocks", "citizens": int(n),
    "vneid": {"issuer": f"http://localhost:{vneid}", "port": int(vneid),
              "clients": [{"client_id": "xacthuc", "redirect_uris": [f"http://localhost:{op}/callback/vneid"],
                           "client_secret": None, "jwks": {"keys": [jwk]}}]},
    "population": {"port": int(pop), "api_keys": [key]},
    "gov_ca": {"port": int(ca), "public_url": f"http://localhost:{ca}"},
}
json.dump(cfg, open(f"{d}/mocks.json", "w"))
PY

say "mocks as their own process ($CITIZENS citizens): e-ID :$P_VNEID, population :$P_POP"
"$BIN/xacthuc-mocks" all --config "$SCRATCH/mocks.json" >"$SCRATCH/mocks.log" 2>&1 &
MOCKS_PID=$!
PIDS+=("$MOCKS_PID")
"$BIN/xacthuc-mocks" generate --count "$CITIZENS" --format csv --out "$SCRATCH/citizens.csv" 2>/dev/null \
  || die "cannot generate the identity list"
wait_http "http://localhost:$P_VNEID/.well-known/openid-configuration" "$MOCKS_PID" "the mocks"

say "xacthuc $BACKEND on :$P_OP"
unset DATABASE_URL XACTHUC_DATABASE_URL XACTHUC_REDIS_URL
export XACTHUC_PORT=$P_OP XACTHUC_HOST=127.0.0.1 XACTHUC_ISSUER=http://localhost:$P_OP \
  XACTHUC_DATA_DIR=$SCRATCH/data XACTHUC_KEYS_DIR=$SCRATCH/keys \
  XACTHUC_VNEID_ISSUER=http://localhost:$P_VNEID XACTHUC_POPULATION_URL=http://localhost:$P_POP \
  XACTHUC_POPULATION_API_KEY=$POP_KEY XACTHUC_VNEID_CLIENT_KEY_FILE=$SCRATCH/eid-client.pem \
  XACTHUC_LOGIN_TX_PER_IP=100000000 \
  XACTHUC_MOCK_VNEID_PORT=$P_VNEID_IN XACTHUC_MOCK_POPULATION_PORT=$P_POP_IN XACTHUC_MOCK_GOV_CA_PORT=$P_CA_IN \
  XACTHUC_PORTAL_PORT=$P_PORTAL XACTHUC_DEV_CITIZENS=10
# (dev mode still starts its in-process mocks on other ports; xacthuc is pointed away from them.)
if [[ $BACKEND == serve ]]; then
  DB=xacthuc_compare_$$
  psql "$PG_URL/postgres" -qc "CREATE DATABASE $DB" >/dev/null || die "cannot create database $DB at $PG_URL"
  export DATABASE_URL=$PG_URL/$DB REDIS_URL=$REDIS XACTHUC_REDIS_KEY_PREFIX="compare$$:" \
    XACTHUC_MASTER_KEY=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())') \
    XACTHUC_ALLOW_INSECURE_ISSUER=true XACTHUC_METRICS_ADDR=127.0.0.1:$P_METRICS
  MODE=serve
else
  unset REDIS_URL
  MODE=dev
fi
REDIRECT=http://127.0.0.1:9/bench/callback
SECRET=$("$BIN/xacthuc" clients add --id bench --name "Load test" --redirect-uri "$REDIRECT" \
  --scope "openid profile offline_access" --grants authorization_code,refresh_token,client_credentials \
  | sed -n 's/^ *client_secret: *//p' | tail -n1)
[[ -n $SECRET ]] || die "xacthuc clients add printed no client_secret"
"$BIN/xacthuc" "$MODE" >"$SCRATCH/xacthuc.log" 2>&1 &
OP_PID=$!
PIDS+=("$OP_PID")
wait_http "http://localhost:$P_OP/readyz" "$OP_PID" "xacthuc $MODE"

say "node-oidc-provider $VERSION on :$P_NODE ($(node --version))"
PEER_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
(cd "$SCRATCH/peer" && STORE_MAX=${COMPARE_PEER_STORE_MAX:-} PORT=$P_NODE CLIENT_SECRET=$PEER_SECRET REDIRECT_URI=$REDIRECT exec node node-oidc-provider.mjs) \
  >"$SCRATCH/peer.log" 2>&1 &
NODE_PID=$!
PIDS+=("$NODE_PID")
wait_http "http://localhost:$P_NODE/.well-known/openid-configuration" "$NODE_PID" "node-oidc-provider"

BENCH() { "$BIN/xacthuc-bench" run "$SCENARIO" --identities "$SCRATCH/citizens.csv" -q "$@"; }
X=(--issuer "http://localhost:$P_OP" "--client-secret=$SECRET") # "=": a secret may begin with "-"
N=(--issuer "http://localhost:$P_NODE" "--client-secret=$PEER_SECRET")
NEXT=0 # next unused citizen (after the scenario's `where`)

say "warm-up: $WARMUP logins each"
BENCH "${X[@]}" --users "$USERS" --iterations "$WARMUP" --skip-identities $NEXT >/dev/null
NEXT=$((NEXT + WARMUP + USERS))
BENCH "${N[@]}" --users "$USERS" --iterations "$WARMUP" >/dev/null

EXTRA=()
DBINFO=
if [[ $BACKEND == serve ]]; then
  # Our own database backends (their CPU) and the Redis server: shared services, so other work
  # on this machine counts too.
  for pid in $(psql "$PG_URL/postgres" -Atc "SELECT pid FROM pg_stat_activity WHERE datname = '$DB'"); do EXTRA+=(--pid "$pid"); done
  REDIS_PID=$(redis-cli -u "$REDIS" info server 2>/dev/null | sed -n 's/^process_id:\([0-9]*\).*/\1/p')
  [[ -n $REDIS_PID ]] && EXTRA+=(--pid "$REDIS_PID")
  DBINFO=" + $((${#EXTRA[@]} / 2)) database/Redis processes"
fi

REPORTS=()
TICK_US=$((1000000 / $(getconf CLK_TCK)))
for round in $(seq 1 "$ROUNDS"); do
  for kind in $KINDS; do
    say "round $round/$ROUNDS, $kind: $LOGINS operations, $USERS virtual users, against each"
    K=(--kind "$kind" --users "$USERS" --iterations "$LOGINS")
    if [[ $kind == refresh ]]; then K+=(--scope "openid profile offline_access" --param prompt=consent); fi
    m0=$(cpu_ticks "$MOCKS_PID")
    BENCH "${X[@]}" "${K[@]}" --skip-identities $NEXT --pid "$OP_PID" "${EXTRA[@]}" \
      --label "xacthuc $MODE, $kind, round $round" --json "$OUT/xacthuc-$MODE-$kind-$round.json" \
      --svg "$OUT/xacthuc-$MODE-$kind-$round.svg"
    m1=$(cpu_ticks "$MOCKS_PID")
    if [[ $kind == login ]]; then NEXT=$((NEXT + LOGINS + USERS)); else NEXT=$((NEXT + USERS)); fi
    echo "mocks process (e-ID + population), CPU during that run: $(((m1 - m0) * TICK_US)) µs in all, $(((m1 - m0) * TICK_US / LOGINS)) µs per operation"
    BENCH "${N[@]}" "${K[@]}" --pid "$NODE_PID" \
      --label "node-oidc-provider, $kind, round $round" --json "$OUT/node-$kind-$round.json" --svg "$OUT/node-$kind-$round.svg"
    REPORTS+=("$OUT/node-$kind-$round.json" "$OUT/xacthuc-$MODE-$kind-$round.json")
  done
done

if [[ -n $SPIKE ]]; then
  say "spike: $SPIKE logins arriving (open model), against each"
  BENCH "${X[@]}" --spike "$SPIKE" --skip-identities $NEXT --pid "$OP_PID" "${EXTRA[@]}" --label "xacthuc $MODE, spike $SPIKE" \
    --json "$OUT/xacthuc-$MODE-spike.json" --svg "$OUT/xacthuc-$MODE-spike.svg"
  BENCH "${N[@]}" --spike "$SPIKE" --pid "$NODE_PID" --label "node-oidc-provider, spike $SPIKE" \
    --json "$OUT/node-spike.json" --svg "$OUT/node-spike.svg"
fi

say "resident memory after the runs: xacthuc $(rss_mib "$OP_PID") MiB, node-oidc-provider $(rss_mib "$NODE_PID") MiB, mocks $(rss_mib "$MOCKS_PID") MiB"
say "side by side (server = the provider's own process$DBINFO; ratio to the first row)"
"$BIN/xacthuc-bench" compare "${REPORTS[@]}"
if [[ -n $SPIKE ]]; then "$BIN/xacthuc-bench" compare "$OUT/node-spike.json" "$OUT/xacthuc-$MODE-spike.json"; fi
python3 - "${REPORTS[@]}" <<'PY'
import json, sys
r = [json.load(open(p)) for p in sys.argv[1:]]
for i in range(0, len(r), 2):
    node, x = r[i], r[i + 1]
    n = node["server_cpu"]["processes"][0]["us_per_op"] or float("nan")
    xs = x["server_cpu"]["processes"][0]["us_per_op"] or float("nan")
    others = sum(p["us_per_op"] or 0 for p in x["server_cpu"]["processes"][1:])
    extra = f" (+{others:.0f} µs database and Redis)" if len(x["server_cpu"]["processes"]) > 1 else ""
    name, kind, rnd = x["label"].split(", ")
    what = "complete login" if kind == "login" else kind
    print(f"{rnd}, server CPU per {what}: node-oidc-provider {n:.0f} µs, {name} {xs:.0f} µs{extra}: ratio {xs / n:.2f}×")
PY
echo "reports: $OUT"
