#!/bin/bash
# umm4j vs PyTorch, one run on one machine: SSL training step (SimCLR, BYOL) and forward-only feature extraction of a
# CIFAR ResNet-18 at base widths 16 and 64, batch 128 of 3x32x32, each configuration measured for umm4j and then
# PyTorch back to back (same threads), with `uptime` before and after. Prints a table of img/s and umm4j/PyTorch.
#
# Needs: the benchmarks jar built from this worktree
#   (cd .. && mvn -o -q install -DskipTests) && mvn -o -q package
# and Debian's PyTorch (apt-get install -y python3-torch) run by /usr/bin/python3. Not part of CI.
#
# Environment: THREADS (2), WIDTHS ("16 64"), METHODS ("simclr byol forward"; also "forward-unfolded": umm4j's
# forward without BatchNorm folding, against the same PyTorch forward), LOG (/tmp/umm4j-vs-torch.log),
# STEPS16/WARMUP16 (3/2: timed/warm-up training steps at width 16), STEPS64/WARMUP64 (1/1 for training steps at
# width 64), STEPSFWD16/WARMUPFWD16 (20/10 for forward at width 16: a batch takes ~0.1-0.2 s, and the JVM needs ~10
# batches to compile DL4J's dispatch code; extraction over a dataset runs 78+ batches, so steady state is the use
# case), STEPSFWD/WARMUPFWD (5/2 for forward at wider widths), REPEATS (1: how often the whole sequence runs; the table shows medians, and the ratio is the
# median of back-to-back pairs, which this machine's +-20 % run-to-run noise needs), JAVA_OPTS (extra JVM options).
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS=${THREADS:-2}
WIDTHS=${WIDTHS:-"16 64"}
METHODS=${METHODS:-"simclr byol forward"}
LOG=${LOG:-/tmp/umm4j-vs-torch.log}
JAR=target/benchmarks.jar
PY=/usr/bin/python3
export OMP_NUM_THREADS=$THREADS
: > "$LOG"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')  OMP_NUM_THREADS=$OMP_NUM_THREADS  torch threads=$THREADS"
  echo "uptime before: $(uptime)"
} | tee -a "$LOG"
REPEATS=${REPEATS:-1}
for rep in $(seq 1 "$REPEATS"); do
for w in $WIDTHS; do
  for m in $METHODS; do
    if [ "${m%-unfolded}" = forward ] && [ "$w" -le 16 ]; then steps=${STEPSFWD16:-20}; warm=${WARMUPFWD16:-10};
    elif [ "${m%-unfolded}" = forward ]; then steps=${STEPSFWD:-5}; warm=${WARMUPFWD:-2};
    elif [ "$w" -le 16 ]; then steps=${STEPS16:-3}; warm=${WARMUP16:-2};
    else steps=${STEPS64:-1}; warm=${WARMUP64:-1}; fi
    echo "-- repeat $rep/$REPEATS: $m width $w: $warm warm-up + $steps timed (load $(cut -d' ' -f1 /proc/loadavg))" | tee -a "$LOG"
    java ${JAVA_OPTS:-} -cp "$JAR" org.umm4j.bench.SslStepBenchmark --methods "$m" --base-width "$w" \
        --batch 128 --steps "$steps" --warmup "$warm" 2>/dev/null | grep -E '^(RESULT|[a-z-]+ +[0-9])' \
        | sed "s/^RESULT /RESULT repeat=$rep /" | tee -a "$LOG"
    "$PY" torch/ssl_step_torch.py --method "${m%-unfolded}" --base-width "$w" --batch 128 --steps "$steps" --warmup "$warm" \
        --threads "$THREADS" | sed "s/^RESULT /RESULT repeat=$rep method_as=$m /" | tee -a "$LOG"
  done
done
done
echo "uptime after: $(uptime)" | tee -a "$LOG"
"$PY" - "$LOG" <<'PYEOF'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    if line.startswith("RESULT "):
        kv = dict(t.split("=", 1) for t in line.split()[1:])
        method = kv.get("method_as", kv["method"])
        runs.setdefault((method, int(kv["base_width"]), kv["impl"]), {})[kv["repeat"]] = kv
med = lambda xs: statistics.median(xs)
print("\nMedians over repeats; umm4j/PyTorch is the median of the ratios of runs made back to back (same repeat).")
print("\n| base width | what | repeats | umm4j img/s | PyTorch img/s | umm4j/PyTorch | CPU s/step umm4j | PyTorch | CPU ratio "
      "PyTorch/umm4j | umm4j RSS MB | PyTorch RSS MB | params (both) |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
for (m, w, impl), us in sorted(runs.items(), key=lambda r: (r[0][1], r[0][0])):
    if impl != "umm4j":
        continue
    ts = runs.get((m, w, "torch"), {})
    reps = sorted(set(us) & set(ts))
    if not reps:
        continue
    u = [us[r] for r in reps]
    t = [ts[r] for r in reps]
    f = lambda rows, k: med([float(x[k]) for x in rows])
    ratio = med([float(us[r]["img_s"]) / float(ts[r]["img_s"]) for r in reps])
    cpu_ratio = med([float(ts[r]["cpu_s"]) / float(us[r]["cpu_s"]) for r in reps])
    same = u[0]["params"] if u[0]["params"] == t[0]["params"] else "%s vs %s" % (u[0]["params"], t[0]["params"])
    print("| %d | %s | %d | %.1f | %.1f | %.2fx | %.2f | %.2f | %.2fx | %.0f | %.0f | %s |" % (
        w, m, len(reps), f(u, "img_s"), f(t, "img_s"), ratio, f(u, "cpu_s"), f(t, "cpu_s"), cpu_ratio,
        f(u, "rss_peak_mb"), f(t, "rss_peak_mb"), same))
PYEOF
