#!/usr/bin/env bash
# Memory of the preview and size of the build with many clients and heavy
# media, for one or more atelier binaries measured on the same project in the
# same run (figures in docs/performance.md, "Media").
#
# Usage: scripts/media-bench.sh [--clients N] [--files K] [--file-mb M] BIN...
#
#   --clients N    client versions (default 20)
#   --files K      random media files in static/media/ (default 10)
#   --file-mb M    size of each, in MB (default 50: 500 MB of media)
#   BIN...         atelier binaries, e.g. a release build of main and one of
#                  this branch; each is labelled with its path
#
# For each binary it measures, on one generated project:
#   - serve:  VmRSS of `atelier serve` (/proc/PID/status) once it announced
#             its address (first build done), then again after every media
#             file was fetched once from three versions (curl);
#   - build:  `du -sh` of public/ (base and client versions) and of
#             public-facilitator/ (`build --facilitator`), and the wall time
#             of each build.
#
# Environment: WORKDIR (default /tmp/atelier-media-bench) holds the project
# and the outputs; it is removed at the end unless KEEP=1. Needs curl.
set -euo pipefail

die() {
  echo "media-bench.sh: $*" >&2
  exit 2
}

CLIENTS=20
FILES=10
FILE_MB=50
BINS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) CLIENTS="$2"; shift 2 ;;
    --files) FILES="$2"; shift 2 ;;
    --file-mb) FILE_MB="$2"; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    -*) die "unknown option $1" ;;
    *) BINS+=("$1"); shift ;;
  esac
done
[ ${#BINS[@]} -gt 0 ] || die "name at least one atelier binary"
for bin in "${BINS[@]}"; do
  [ -x "$bin" ] || die "$bin is not an executable"
done
command -v curl >/dev/null || die "curl is needed"

WORKDIR="${WORKDIR:-/tmp/atelier-media-bench}"
PROJECT="$WORKDIR/project"
rm -rf "$WORKDIR"
mkdir -p "$PROJECT/content/modules" "$PROJECT/static/media"
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORKDIR"
}
trap cleanup EXIT

# The project: a few pages, CLIENTS clients, FILES × FILE_MB MB of media.
cat > "$PROJECT/atelier.yaml" <<'YAML'
title: Atelier médias
language: fr
client_defaults:
  name: votre entreprise
  sector: votre secteur
YAML
printf -- '---\ntitle: Accueil\n---\nBienvenue dans l’atelier.\n' > "$PROJECT/content/_index.md"
{
  printf -- '---\ntitle: La vidéo d’ouverture\nduration: 20 min\n---\nRegardez les extraits :\n\n'
  for i in $(seq 1 "$FILES"); do
    printf -- '- [extrait %s](../../static/media/extrait-%02d.webm)\n' "$i" "$i"
  done
} > "$PROJECT/content/modules/01-ouverture.md"
for c in $(seq 1 "$CLIENTS"); do
  mkdir -p "$PROJECT/clients/client-$c"
  printf 'name: "Client %s"\nsector: "artisanat"\n' "$c" > "$PROJECT/clients/client-$c/client.yaml"
done
for i in $(seq 1 "$FILES"); do
  head -c "$((FILE_MB * 1024 * 1024))" /dev/urandom > "$PROJECT/static/media/extrait-$(printf %02d "$i").webm"
done
MEDIA=$(du -sh "$PROJECT/static" | cut -f1)

rss_mb() {
  awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"
}

# serve: RSS after start, and after fetching every file from three versions.
measure_serve() {
  local bin="$1" log="$WORKDIR/serve.log" port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  (cd "$PROJECT" && exec "$bin" serve --port "$port" >"$log" 2>&1) &
  SERVER_PID=$!
  for _ in $(seq 1 600); do
    grep -q '^Serving http' "$log" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "atelier serve stopped: $(cat "$log")"
    sleep 0.5
  done
  grep -q '^Serving http' "$log" || die "atelier serve did not start"
  sleep 1
  SERVE_START=$(rss_mb "$SERVER_PID")
  for version in "" "clients/client-1/" "_facilitator/clients/client-2/"; do
    for i in $(seq 1 "$FILES"); do
      curl -sf -o /dev/null "http://127.0.0.1:$port/${version}media/extrait-$(printf %02d "$i").webm" \
        || die "GET /${version}media/extrait-$i.webm failed"
    done
  done
  SERVE_AFTER=$(rss_mb "$SERVER_PID")
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# build: size on disk of each output, and the time each build took.
measure_build() {
  local bin="$1" start
  rm -rf "$PROJECT/public" "$PROJECT/public-facilitator"
  start=$(date +%s.%N)
  (cd "$PROJECT" && "$bin" build --quiet >/dev/null 2>"$WORKDIR/build.log") || die "build failed: $(cat "$WORKDIR/build.log")"
  BUILD_S=$(echo "$(date +%s.%N) - $start" | bc)
  start=$(date +%s.%N)
  (cd "$PROJECT" && "$bin" build --facilitator --quiet >/dev/null 2>"$WORKDIR/build.log") || die "facilitator build failed: $(cat "$WORKDIR/build.log")"
  FAC_S=$(echo "$(date +%s.%N) - $start" | bc)
  sync
  PUBLIC=$(du -sh "$PROJECT/public" | cut -f1)
  FACILITATOR=$(du -sh "$PROJECT/public-facilitator" | cut -f1)
  rm -rf "$PROJECT/public" "$PROJECT/public-facilitator"
}

echo "$CLIENTS clients, $FILES media files of $FILE_MB MB ($MEDIA in static/)"
echo
echo "| binary | serve RSS after start | after sending every file from 3 versions | du -sh public/ | du -sh public-facilitator/ | build | build --facilitator |"
echo "|---|---|---|---|---|---|---|"
for bin in "${BINS[@]}"; do
  measure_serve "$bin"
  measure_build "$bin"
  printf '| %s | %s MB | %s MB | %s | %s | %.1f s | %.1f s |\n' \
    "$bin" "$SERVE_START" "$SERVE_AFTER" "$PUBLIC" "$FACILITATOR" "$BUILD_S" "$FAC_S"
done
