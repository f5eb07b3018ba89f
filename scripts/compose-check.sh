#!/usr/bin/env bash
# The compose stage of CI (.ci/run runs it after the tests; by hand: `bash scripts/compose-check.sh`
# from a checkout after `npm ci`, as root where no Docker engine runs yet). It builds the images,
# runs the whole stack with the README's compose commands, and checks it through the published
# ports only (the api on 127.0.0.1:3000, Adminer on 127.0.0.1:8080):
#   - `docker compose up -d --build --wait` exits 0 (every service healthy, the migration done);
#   - `GET /docs` loads only the script the api image serves itself (scripts/compose-docs.ts);
#   - `npm run demo` end to end, webhooks included (its receiver on this host, reached by the
#     workers at host.docker.internal, with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true for that run);
#   - a money smoke test with the two workers (scripts/compose-smoke.ts), then `npm run
#     ledger:audit` inside the api container;
#   - `--scale worker=4`: the four share the partitions; operations settle;
#   - `docker kill` of a worker, then `docker compose restart postgres`, each under load: every
#     accepted operation ends exactly once, the audit passes;
#   - a process orphaned in the postgres container (as a timed-out healthcheck leaves one) that
#     exits 2 does not reset the server;
#   - `docker compose down` then `up`: every balance, entry and operation is still the same;
#   - Adminer logs in to the database with the documented credentials;
#   - `docker compose down -v` at the end, whatever failed.
# A Docker engine: the one that answers, else Debian's docker.io, installed if missing and started
# here (and stopped at the end). Images: the ones present, else pulled, else local stand-ins built
# by ../shared/containers/build-standins.sh (looked for beside this checkout and beside the main
# worktree of its repository; STANDINS_SCRIPT=path overrides). Compose: v2 (`docker compose`) only,
# as the README: Debian 12's docker-compose 1.29 has no `up --wait` (it still validates the file
# offline in the unit tests); the stand-in builder installs v2 as a CLI plugin.
# The stack runs as its own Compose project (COMPOSE_PROJECT_NAME, default wallet-billing-check),
# so the final `down -v` never removes the volumes of a stack started by hand from this checkout;
# ports 3000 and 8080 must be free. Measured on 2 cores: about 2 minutes warm (images and build cache
# in place), 4 cold (stand-ins built, nothing cached).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-wallet-billing-check}
# Node 24 of the `node` dev dependency, as npm scripts run it (the system's may be older).
export PATH="$root/node_modules/.bin:$PATH"
state=$(mktemp -d /tmp/compose-check.XXXXXX)
smoke() { node scripts/compose-smoke.ts "$@" --state "$state"; }

# ---- steps, timings, and the trap that always tears down ----
started=$SECONDS
current=""
step_started=$SECONDS
summary=()
dockerd_pid=""
load_pid=""
compose_ok=false

say() { printf '    %s\n' "$*"; }
die() {
  printf 'compose-check: %s\n' "$*" >&2
  exit 1
}
# run <name> <function> [args]: one step, timed. Called outside any condition, so `set -e` holds inside.
run() {
  current=$1
  step_started=$SECONDS
  printf '\n==> %s\n' "$1"
  "${@:2}"
  summary+=("$(printf '%5d s  %s' $((SECONDS - step_started)) "$1")")
  current=""
}

finish() {
  local rc=$?
  set +e
  if [ -n "$load_pid" ]; then
    kill "$load_pid" 2>/dev/null
    wait "$load_pid" 2>/dev/null
  fi
  if [ "$rc" -ne 0 ]; then
    printf '\ncompose-check: FAILED in "%s" after %d s (exit %d); state kept in %s\n' \
      "${current:-?}" $((SECONDS - step_started)) "$rc" "$state" >&2
    [ -f "$state/compose.log" ] && { echo "--- last lines of docker compose's output"; tail -25 "$state/compose.log"; }
    if $compose_ok; then
      echo "--- docker compose ps -a"
      docker compose ps -a
      echo "--- docker compose logs --tail=40"
      docker compose logs --no-color --tail=40 | sed 's/\x1b\[[0-9;]*[A-Za-z]//g'
    fi
  fi
  if $compose_ok; then
    local t=$SECONDS
    printf '\n==> docker compose down -v (always)\n'
    quietly docker compose down -v || echo "compose-check: docker compose down -v failed (see $state/compose.log)" >&2
    summary+=("$(printf '%5d s  %s' $((SECONDS - t)) "docker compose down -v")")
  fi
  if [ -n "$dockerd_pid" ]; then
    echo "==> stopping the dockerd this stage started (pid $dockerd_pid)"
    kill "$dockerd_pid"
    for _ in $(seq 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
  fi
  printf '\ncompose-check: %s in %d s\n' "$([ "$rc" -eq 0 ] && echo PASSED || echo FAILED)" $((SECONDS - started))
  printf '%s\n' "${summary[@]}"
  [ "$rc" -eq 0 ] && rm -rf "$state"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Runs a compose command, its output kept in compose.log (shown when a step fails).
quietly() {
  echo "\$ $*" >>"$state/compose.log"
  "$@" >>"$state/compose.log" 2>&1
}

# ---- the engine and the images ----
engine() {
  if docker info >/dev/null 2>&1; then
    say "a Docker engine answers (server $(docker version -f '{{.Server.Version}}'))"
    return
  fi
  [ "$(id -u)" = 0 ] || die "no Docker engine answers, and installing or starting one needs root"
  if ! command -v dockerd >/dev/null; then
    say "installing Debian's docker.io"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null
  fi
  if ! docker info >/dev/null 2>&1; then
    nohup dockerd >/tmp/compose-check-dockerd.log 2>&1 &
    dockerd_pid=$!
    for _ in $(seq 30); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || die "dockerd did not answer within 30 s (see /tmp/compose-check-dockerd.log)"
    say "started dockerd (pid $dockerd_pid, log /tmp/compose-check-dockerd.log)"
  fi
}

# The public images the project names: the Dockerfiles' FROM and the services that build nothing,
# except those under a profile (prometheus: `--profile observability`), which this stage never starts.
base_images() {
  node --input-type=module -e '
    import { readFileSync } from "node:fs";
    import { parse } from "yaml";
    const services = Object.values(parse(readFileSync("docker-compose.yml", "utf8")).services);
    const dockerfiles = new Set(services.filter((s) => s.build).map((s) => s.build.dockerfile));
    const from = [...dockerfiles].flatMap((f) => [...readFileSync(f, "utf8").matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]));
    const images = services.filter((s) => !s.build && !s.profiles).map((s) => s.image);
    console.log([...new Set([...from, ...images])].join("\n"));'
}

standins_script() {
  local main
  main=$(dirname "$(git rev-parse --path-format=absolute --git-common-dir 2>/dev/null || echo "$root/.git")")
  for f in "${STANDINS_SCRIPT:-}" "$root/../shared/containers/build-standins.sh" "$main/../shared/containers/build-standins.sh"; do
    if [ -n "$f" ] && [ -f "$f" ]; then
      echo "$(cd "$(dirname "$f")" && pwd)/$(basename "$f")"
      return 0
    fi
  done
  return 1
}

images() {
  local images missing=() img script
  mapfile -t images < <(base_images)
  for img in "${images[@]}"; do docker image inspect "$img" >/dev/null 2>&1 || missing+=("$img"); done
  for img in "${missing[@]}"; do
    say "pulling $img"
    if ! timeout 300 docker pull -q "$img" >/dev/null 2>"$state/pull.err"; then
      say "cannot pull $img: $(tail -1 "$state/pull.err")"
      script=$(standins_script) || die "cannot pull $img, and no stand-in builder is at ../shared/containers/build-standins.sh (beside this checkout or its main worktree); set STANDINS_SCRIPT, or make the registry reachable"
      say "building local stand-ins with $script (about 2-3 minutes the first time)"
      bash "$script" >"$state/standins.log" 2>&1 || {
        tail -20 "$state/standins.log"
        die "the stand-in builder failed"
      }
      break
    fi
  done
  for img in "${images[@]}"; do docker image inspect "$img" >/dev/null 2>&1 || die "image $img is still missing"; done
  say "images present: ${images[*]}"
  docker compose version >/dev/null 2>&1 ||
    die "Compose v2 (\`docker compose\`) is needed (Debian 12's docker-compose 1.29 has no \`up --wait\`): install Docker's docker-compose-plugin, or run ../shared/containers/build-standins.sh, which installs it from Debian trixie"
  say "$(docker compose version)"
}

# ---- the stack ----
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A setting as the stack sees it (the shell, then .env, then the compose file's default).
setting() {
  docker compose config --format json |
    node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).services[process.argv[1]].environment[process.argv[2]]))' "$1" "$2"
}

up() {
  compose_ok=true
  quietly docker compose down -v # what an interrupted earlier run may have left
  port_free 3000 || die "something already listens on 127.0.0.1:3000 (a stack started by hand? docker compose down)"
  port_free 8080 || die "something already listens on 127.0.0.1:8080"
  [ -f .env ] && say "note: .env is read, as docker compose up would"
  quietly docker compose up -d --build --wait
  partitions=$(setting api PARTITIONS)
  admin_token=$(setting api ADMIN_TOKEN)
  postgres_password=$(setting postgres POSTGRES_PASSWORD)
  say "built the images (their unit tests included) and started: $(docker compose ps --format '{{.Service}}' | sort | uniq -c | awk '{printf "%s%s×%s", sep, $2, $1; sep=", "}')"
}

demo() {
  quietly env WEBHOOK_ALLOW_PRIVATE_NETWORKS=true docker compose up -d --wait
  say "api and workers recreated with WEBHOOK_ALLOW_PRIVATE_NETWORKS=true"
  ADMIN_TOKEN="$admin_token" DEMO_WEBHOOK_HOST=host.docker.internal DEMO_REQUIRE_WEBHOOKS=true npm run -s demo | sed 's/^/    | /'
  quietly docker compose up -d --wait
  say "api and workers back to the default (no private webhook endpoints)"
}

audit() {
  docker compose exec -T api npm run -s ledger:audit -- --pending-bound-seconds=0 | sed 's/^/    | /'
}

# workers_share <n>: n workers run, each was dealt partitions, and theirs add up to PARTITIONS.
# Their metrics port is not published: each is read from inside its own container.
workers_share() {
  local want=$1 ids line total n c
  for _ in $(seq 30); do
    mapfile -t ids < <(docker compose ps -q --status running worker)
    line="" total=0 n=0
    for c in "${ids[@]}"; do
      local got
      got=$(docker exec "$c" node -e "fetch('http://127.0.0.1:9464/metrics').then((r)=>r.text()).then((t)=>console.log(t.match(/^billing_partitions_assigned (\\d+)/m)?.[1]??0))" 2>/dev/null || echo 0)
      line+="$(docker inspect -f '{{.Name}}' "$c" | sed 's|^/||'):$got "
      total=$((total + got))
      [ "$got" -gt 0 ] && n=$((n + 1))
    done
    if [ "${#ids[@]}" -eq "$want" ] && [ "$n" -eq "$want" ] && [ "$total" -eq "$partitions" ]; then
      say "partitions assigned: ${line}(sum $total = PARTITIONS)"
      return
    fi
    sleep 1
  done
  die "after 30 s, ${#ids[@]} running workers (want $want) hold ${line:-nothing} (sum $total, PARTITIONS $partitions)"
}

smoke_two_workers() {
  ADMIN_TOKEN="$admin_token" smoke setup | sed 's/^/    /'
  smoke load --tag two-workers --ops 400 --concurrency 50 | sed 's/^/    /'
  smoke settle | sed 's/^/    /'
  audit
}

scale_four() {
  quietly docker compose up -d --scale worker=4 --wait
  workers_share 4
  smoke load --tag four-workers --ops 300 --concurrency 50 | sed 's/^/    /'
  smoke settle | sed 's/^/    /'
  audit
}

# under_load <tag> <command...>: the command runs 5 s into a 20 s load of 100 operations a second.
under_load() {
  local tag=$1
  shift
  # node itself in the background (not the smoke function, a subshell), so that $! is its pid.
  node scripts/compose-smoke.ts load --state "$state" --tag "$tag" --rate 100 --seconds 20 --concurrency 32 \
    >"$state/load-$tag.log" 2>&1 &
  load_pid=$!
  sleep 5
  "$@"
  local pid=$load_pid
  load_pid=""
  wait "$pid" || {
    cat "$state/load-$tag.log"
    die "the load failed"
  }
  sed 's/^/    /' "$state/load-$tag.log"
}

kill_worker() {
  local running victim
  # Not `| head -1`: under pipefail, compose writing after head has exited fails the step (a
  # CI run failed here with exit 255 and every worker still up).
  running=$(docker compose ps -q --status running worker)
  victim=${running%%$'\n'*}
  docker kill "$victim" >/dev/null
  say "docker kill $(docker inspect -f '{{.Name}}' "$victim" | sed 's|^/||') (exit code $(docker inspect -f '{{.State.ExitCode}}' "$victim"))"
}

kill_a_worker() {
  under_load kill kill_worker
  smoke settle | sed 's/^/    /'
  workers_share 3
  audit
  quietly docker compose up -d --scale worker=4 --wait
  workers_share 4
}

restart_pg() {
  local before
  before=$(docker inspect -f '{{.State.StartedAt}}' "$(docker compose ps -q postgres)")
  quietly docker compose restart postgres
  [ "$(docker inspect -f '{{.State.StartedAt}}' "$(docker compose ps -q postgres)")" != "$before" ] ||
    die "postgres was not restarted"
  say "docker compose restart postgres: done"
}

# A healthcheck killed on its timeout leaves its children behind; an orphan that exits 2 inside
# the postgres container must not be taken for a crashed backend (docker-compose.yml, `init`).
orphan_in_postgres() {
  local id logs
  id=$(docker compose ps -q postgres)
  [ -n "$id" ] || die "no postgres container"
  docker exec "$id" sh -c 'sh -c "sleep 1; exit 2" &'
  sleep 3
  logs=$(docker logs --since 10s "$id" 2>&1) || die "could not read the postgres container's log"
  [[ $logs != *reinitializing* ]] || die "postgres reset on an orphan's exit"
  docker exec "$id" pg_isready -q -h 127.0.0.1 -U postgres || die "postgres not ready after an orphan's exit"
  say "an orphaned process exiting 2 in the postgres container: no reset"
}

restart_postgres() {
  under_load postgres restart_pg
  smoke settle | sed 's/^/    /'
  audit
  local ids
  mapfile -t ids < <(docker compose ps -q)
  say "restarts by the restart policy: $(docker inspect -f '{{.Name}}={{.RestartCount}}' "${ids[@]}" | sed 's|^/||' | tr '\n' ' ')"
}

down_up() {
  smoke snapshot --out "$state/before-down.json" | sed 's/^/    /'
  quietly docker compose down
  say "docker compose down (volumes kept): $(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME" | tr '\n' ' ')"
  quietly docker compose up -d --wait
  smoke snapshot --compare "$state/before-down.json" | sed 's/^/    /'
  audit
}

adminer() {
  POSTGRES_PASSWORD="$postgres_password" node scripts/compose-adminer.ts | sed 's/^/    /'
}

docs_page() {
  node scripts/compose-docs.ts | sed 's/^/    /'
}

[ -x node_modules/.bin/node ] || die "run npm ci first (the demo and the smoke test run on the project's Node 24)"
run "Docker engine" engine
run "images" images
run "docker compose up -d --build --wait" up
run "GET /docs from the api image (its script served by the api)" docs_page
run "npm run demo (webhooks to this host)" demo
run "money smoke test, two workers" smoke_two_workers
run "docker compose up -d --scale worker=4" scale_four
run "docker kill a worker under load" kill_a_worker
run "an orphan exiting in the postgres container (a timed-out healthcheck's)" orphan_in_postgres
run "docker compose restart postgres under load" restart_postgres
run "docker compose down, then up: nothing changed" down_up
run "Adminer on 127.0.0.1:8080" adminer
