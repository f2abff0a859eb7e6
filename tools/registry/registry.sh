#!/usr/bin/env bash
# Local OCI registries for aim-engine's registry integration tests (127.0.0.1 only).
#
#   registry.sh build           build bin/registry (CNCF Distribution v3), bin/aim-registry-token
#                               and bin/aim-registry-push from the pinned Go modules
#   registry.sh start           start three registries, push the test images, write the env file
#                                 open   no auth                      AIM_TEST_REGISTRY
#                                 basic  htpasswd (HTTP basic)        AIM_TEST_REGISTRY_BASIC
#                                 token  htpasswd + bearer tokens     AIM_TEST_REGISTRY_TOKEN
#   registry.sh stop            stop what start started (by pid file)
#   registry.sh env             print the env file (source it to run the suite by hand)
#
# State lives in $AIM_REGISTRY_DIR (default .local/registry). Ports: $AIM_REGISTRY_PORT_BASE
# (default 5101) .. +3.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DIR="${AIM_REGISTRY_DIR:-$ROOT/.local/registry}"
BIN="$HERE/bin"
BASE="${AIM_REGISTRY_PORT_BASE:-5101}"
OPEN_ADDR="127.0.0.1:$BASE"
BASIC_ADDR="127.0.0.1:$((BASE + 1))"
TOKEN_ADDR="127.0.0.1:$((BASE + 2))"
REALM_ADDR="127.0.0.1:$((BASE + 3))"
USER_NAME="aim-test"
PASSWORD="aim-test-password"

die() { echo "registry.sh: $*" >&2; exit 1; }

build() {
  mkdir -p "$BIN"
  # One go build for the three (one link step each, no DWARF: test tools, never debugged here).
  (cd "$HERE" && go build -buildvcs=false -ldflags "-s -w" -o "$BIN/" \
    github.com/distribution/distribution/v3/cmd/registry ./cmd/aim-registry-token ./cmd/aim-registry-push)
}

config() {  # config NAME ADDR AUTH-YAML
  mkdir -p "$DIR/$1/data"
  cat >"$DIR/$1/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $DIR/$1/data
  delete:
    enabled: true
http:
  addr: $2
  secret: aim-engine-registry-test
$3
YAML
}

wait_http() {  # wait_http URL: until anything answers (any status)
  for _ in $(seq 1 100); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.1
  done
  die "nothing answers at $1"
}

spawn() {  # spawn NAME CMD...: background with log and pid file
  OTEL_SDK_DISABLED=true OTEL_TRACES_EXPORTER=none "${@:2}" >"$DIR/$1.log" 2>&1 &
  echo $! >"$DIR/$1.pid"
}

start() {
  [ -x "$BIN/registry" ] || build
  stop >/dev/null 2>&1 || true
  rm -rf "$DIR"
  mkdir -p "$DIR"
  "$BIN/aim-registry-token" -write-htpasswd "$DIR/htpasswd" -user "$USER_NAME" -password "$PASSWORD"

  config open "$OPEN_ADDR" ""
  config basic "$BASIC_ADDR" "auth:
  htpasswd:
    realm: aim-test
    path: $DIR/htpasswd"
  spawn realm "$BIN/aim-registry-token" -listen "$REALM_ADDR" -cert-out "$DIR/token.crt" \
    -htpasswd "$DIR/htpasswd"
  wait_http "http://$REALM_ADDR/token"
  config token "$TOKEN_ADDR" "auth:
  token:
    realm: http://$REALM_ADDR/token
    service: aim-test-registry
    issuer: aim-test-token-issuer
    rootcertbundle: $DIR/token.crt"

  for r in open basic token; do spawn "$r" "$BIN/registry" serve "$DIR/$r/config.yml"; done
  for a in "$OPEN_ADDR" "$BASIC_ADDR" "$TOKEN_ADDR"; do wait_http "http://$a/v2/"; done

  "$BIN/aim-registry-push" -registry "$OPEN_ADDR" >"$DIR/push-open.log"
  "$BIN/aim-registry-push" -registry "$BASIC_ADDR" -user "$USER_NAME" -password "$PASSWORD" >"$DIR/push-basic.log"
  "$BIN/aim-registry-push" -registry "$TOKEN_ADDR" -user "$USER_NAME" -password "$PASSWORD" >"$DIR/push-token.log"

  cat >"$DIR/env.sh" <<ENV
export AIM_TEST_REGISTRY=$OPEN_ADDR
export AIM_TEST_REGISTRY_BASIC=$BASIC_ADDR
export AIM_TEST_REGISTRY_TOKEN=$TOKEN_ADDR
export AIM_TEST_REGISTRY_USER=$USER_NAME
export AIM_TEST_REGISTRY_PASSWORD=$PASSWORD
ENV
  echo "registries up: open $OPEN_ADDR, basic $BASIC_ADDR, token $TOKEN_ADDR (realm $REALM_ADDR); env in $DIR/env.sh"
}

stop() {
  local any=0
  for f in "$DIR"/*.pid; do
    [ -e "$f" ] || continue
    local pid
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then kill "$pid" && any=1; fi
    rm -f "$f"
  done
  [ "$any" = 1 ] && echo "registries stopped" || true
}

case "${1:-}" in
  build) build ;;
  start) start ;;
  stop) stop ;;
  env) cat "$DIR/env.sh" ;;
  *) die "usage: registry.sh build|start|stop|env" ;;
esac
