#!/usr/bin/env bash
# Benchmark of `atelier publish` to a local folder after a one-page edit of
# a 1,000-page version (target: a handful of files sent, under a second).
#
# Usage: scripts/publish-bench.sh
#
# What it does:
#   1. builds atelier in release (cargo build --release);
#   2. generates (or reuses) the shared 1,000-page corpus
#      (gen_corpus.py 1000 WORKDIR/corpus) and copies its atelier project,
#      with `publish: { target: OUTBASE/… }` added to its atelier.yaml;
#   3. publishes once (everything is sent), then RUNS times: edits one
#      page (a sentence appended to one step, a different sentence each
#      time) and publishes, timing the publish; then once without an edit;
#   4. prints a Markdown table: median and slowest wall time, files
#      uploaded and bytes sent, for the first publish, the one-page edits
#      and the publish with nothing to send, and a clean `atelier build` of
#      the same project timed after each edit's publish, so the cost of
#      publishing is read against building on the same loaded machine.
#
# Environment (all optional):
#   WORKDIR=/tmp/atelier-publish-bench   corpus and project
#   SHARED=<repo>/../shared               folder holding bench/gen_corpus.py
#   RUNS=7                                timed one-page-edit publishes
#   OUTBASE=/dev/shm                      where the target folder is made
set -euo pipefail

die() {
  echo "publish-bench.sh: $*" >&2
  exit 2
}

REPO="$(cd "$(dirname "$0")/.." && pwd)"
WORKDIR="${WORKDIR:-/tmp/atelier-publish-bench}"
SHARED="${SHARED:-$REPO/../../shared}"
[ -f "$SHARED/bench/gen_corpus.py" ] || SHARED=/work/shared
RUNS="${RUNS:-7}"
OUTBASE="${OUTBASE:-/dev/shm}"
GEN="$SHARED/bench/gen_corpus.py"
[ -f "$GEN" ] || die "no gen_corpus.py under $SHARED/bench (set SHARED)"

(cd "$REPO" && cargo build --release --quiet)
ATELIER="$REPO/target/release/atelier"

mkdir -p "$WORKDIR"
[ -d "$WORKDIR/corpus/atelier" ] || python3 "$GEN" 1000 "$WORKDIR/corpus" >/dev/null
PROJECT="$WORKDIR/project"
TARGET="$OUTBASE/atelier-publish-bench-target"
rm -rf "$PROJECT" "$TARGET"
cp -r "$WORKDIR/corpus/atelier" "$PROJECT"
printf 'publish:\n  target: "%s"\n' "$TARGET" >>"$PROJECT/atelier.yaml"

# The step that gets edited: the first one of the first module.
PAGE="$(find "$PROJECT/content" -name '*.md' ! -name '_index.md' | sort | awk 'NR == 1')"
[ -n "$PAGE" ] || die "no step page in the corpus"

# Runs one publish; prints "seconds uploaded sent" (sent as atelier shows it).
publish() {
  local start end line
  start=$(date +%s.%N)
  line="$("$ATELIER" --root "$PROJECT" publish)"
  end=$(date +%s.%N)
  local uploaded sent
  uploaded="$(sed -E 's/.*: ([0-9]+) uploaded.*/\1/' <<<"$line")"
  sent="$(sed -E 's/.* unchanged, (.*) sent$/\1/' <<<"$line")"
  echo "$(echo "$end - $start" | bc) $uploaded $sent"
}

# A clean build of the same version into memory-backed storage, beside
# each publish: what the publish costs on top of building.
build() {
  local start end
  start=$(date +%s.%N)
  "$ATELIER" --root "$PROJECT" -q build --out "$OUTBASE/atelier-publish-bench-build"
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

first="$(publish)"
edits=()
builds=()
for i in $(seq 1 "$RUNS"); do
  printf '\nUne phrase ajoutée pour la mesure numéro %s.\n' "$i" >>"$PAGE"
  edits+=("$(publish)")
  builds+=("$(build)")
done
idle="$(publish)"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
slowest() { sort -n | tail -n 1; }
edit_times="$(printf '%s\n' "${edits[@]}" | cut -d' ' -f1)"
last_edit="${edits[${#edits[@]}-1]}"

echo
echo "| publish to a local folder, 1,000-page version ($(nproc) cores) | median wall | slowest | files uploaded | sent |"
echo "|---|---|---|---|---|"
read -r t u s1 s2 <<<"$first"
echo "| first publish (everything) | ${t} s | | $u | $s1 $s2 |"
read -r t u s1 s2 <<<"$last_edit"
echo "| after a one-page edit (median of $RUNS) | $(median <<<"$edit_times") s | $(slowest <<<"$edit_times") s | $u | $s1 $s2 |"
read -r t u s1 s2 <<<"$idle"
echo "| nothing changed | ${t} s | | $u | $s1 $s2 |"
build_times="$(printf '%s\n' "${builds[@]}")"
echo "| for comparison: \`atelier build\` of the same project (median of $RUNS) | $(median <<<"$build_times") s | $(slowest <<<"$build_times") s | | |"
rm -rf "$TARGET" "$OUTBASE/atelier-publish-bench-build"
