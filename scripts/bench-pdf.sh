#!/usr/bin/env bash
# Benchmark of the workbook PDF (SPEC §10): wall and CPU time of `atelier pdf`
# in release, on the example project (the base version and two clients) and
# on a generated 1,000-page corpus. Targets: the example's three PDFs under
# 3 s together, the 1,000-page corpus's under 10 s.
#
# Usage: scripts/bench-pdf.sh
#
# Environment (all optional):
#   WORKDIR=/tmp/atelier-bench-pdf   the corpus and output folders
#   SHARED=<repo>/../shared          folder holding bench/gen_corpus.py
#   RUNS=3                           timed runs per case (the median is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORKDIR=${WORKDIR:-/tmp/atelier-bench-pdf}
SHARED=${SHARED:-$ROOT/../shared}
RUNS=${RUNS:-3}
mkdir -p "$WORKDIR"

cargo build --release --quiet
BIN=$ROOT/target/release/atelier

if [ ! -f "$WORKDIR/p1k/atelier.yaml" ]; then
  python3 "$SHARED/bench/gen_corpus.py" 1000 "$WORKDIR/p1k" >/dev/null
fi

# Median wall time and CPU time (user + sys, s) of RUNS runs of `atelier pdf`,
# after one untimed warm-up run, and the pages typeset.
measure() {
  local project=$1 out=$2
  python3 - "$BIN" "$project" "$out" "$RUNS" <<'PY'
import resource, statistics, subprocess, sys, time
binary, project, out, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
command = [binary, "--root", project, "-q", "pdf", "--out", out]
subprocess.run(command, check=True)
walls, cpus = [], []
for _ in range(runs):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    subprocess.run(command, check=True)
    walls.append(time.monotonic() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
pages = 0
import pathlib
for pdf in pathlib.Path(out).rglob("workbook.pdf"):
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages += next((int(l.split()[1]) for l in info.splitlines() if l.startswith("Pages:")), 0)
workbooks = len(list(pathlib.Path(out).rglob("workbook.pdf")))
name = pathlib.Path(project).name
print(f"| {name} | {workbooks} | {pages} | {statistics.median(walls):.2f} s | {statistics.median(cpus):.2f} s |")
PY
}

echo "| project | workbooks | pages | wall (median of $RUNS) | CPU (median) |"
echo "|---|---|---|---|---|"
measure "$ROOT" "$WORKDIR/out-example"
measure "$WORKDIR/p1k" "$WORKDIR/out-p1k"
