#!/usr/bin/env bash
# Build the image and smoke-test each role: sim, serve (in front of the sim: /ready, a chat, the
# HEALTHCHECK status), worker (refuses to start without Redis/PostgreSQL, naming both), loadtest
# (help). Skips, saying so, when there is no Docker daemon; exit 0 then, 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
TAG="${SUTAZAI_IMAGE:-sutazai:smoke}"

if ! command -v docker >/dev/null 2>&1; then
  echo "docker-smoke: SKIPPED — no docker client on this machine (the image was not built)"
  exit 0
fi
if ! docker info >/dev/null 2>&1; then
  echo "docker-smoke: SKIPPED — no Docker daemon reachable (the image was not built)"
  exit 0
fi

net="sutazai-smoke-$$"
cleanup() {
  docker rm -f "$net-sim" "$net-gw" >/dev/null 2>&1 || true
  docker network rm "$net" >/dev/null 2>&1 || true
}
trap cleanup EXIT
fail() { echo "docker-smoke: FAILED — $*"; docker logs "$net-gw" 2>&1 | tail -20 || true; exit 1; }

echo "docker-smoke: building $TAG"
docker build -t "$TAG" .
echo "docker-smoke: image size $(docker image inspect "$TAG" --format '{{.Size}}' | awk '{printf "%.1f MB", $1/1e6}')"
[ "$(docker image inspect "$TAG" --format '{{.Config.User}}')" = "node" ] || fail "image does not run as the non-root user 'node'"

docker network create "$net" >/dev/null
docker run -d --name "$net-sim" --network "$net" "$TAG" sim --host 0.0.0.0 --port 11434 --models tinyllama >/dev/null
docker run -d --name "$net-gw" --network "$net" -p 127.0.0.1::10010 \
  -e SUTAZAI_UPSTREAMS="ollama=http://$net-sim:11434" "$TAG" >/dev/null
port="$(docker port "$net-gw" 10010/tcp | head -1 | sed 's/.*://')"

for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/ready" | grep -q '"ready"' || fail "/ready never answered 200"
curl -fsS "http://127.0.0.1:$port/api/v1/chat" -H 'content-type: application/json' \
  -d '{"message":"smoke"}' | grep -q '"response"' || fail "chat through the simulator failed"

for _ in $(seq 1 40); do
  [ "$(docker inspect "$net-gw" --format '{{.State.Health.Status}}')" = "healthy" ] && break
  sleep 1
done
[ "$(docker inspect "$net-gw" --format '{{.State.Health.Status}}')" = "healthy" ] || fail "HEALTHCHECK did not report healthy"

# Graceful stop: SIGTERM → drain → exit 0 well within docker's 10 s.
docker stop -t 20 "$net-gw" >/dev/null
[ "$(docker inspect "$net-gw" --format '{{.State.ExitCode}}')" = "0" ] || fail "gateway did not exit 0 on SIGTERM"

out="$(docker run --rm "$TAG" worker 2>&1 || true)"
echo "$out" | grep -q 'REDIS_URL' || fail "worker without Redis did not name REDIS_URL: $out"
docker run --rm "$TAG" loadtest --help >/dev/null || fail "loadtest --help failed"

echo "docker-smoke: PASSED ($TAG)"
