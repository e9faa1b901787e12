#!/bin/bash
# runs_sqlite.sh: experiment tracking on SQLite with the real programs.
#  1. A run is recorded: configuration (arguments as given), code version, data fingerprint
#     (recomputed here in Python), per-epoch rows equal to the lines the trainer printed,
#     the weights' absolute path, status done. The default store is
#     $XDG_DATA_HOME/unsharp/experiments.db; --db none records nothing; a failed run is failed.
#  2. SIGINT stops a run after a step: exit 130, status interrupted, its epochs kept.
#  3. --queue stores runs without training; --worker --once takes one, --drain the rest, in
#     order; a run that fails is marked failed and the worker goes on; SIGTERM to a worker
#     marks its run interrupted.
#  4. Two workers started together on one queue of 8 runs: every run done, each taken once.
#  5. Crash recovery: a worker killed with SIGKILL mid-run leaves the run "running" (its child
#     stops too); the next worker puts it back in the queue and trains it again (attempt 2),
#     or with --max-attempts 1 marks it interrupted; a run whose heartbeat is older than
#     --stale is recovered the same way.
#  6. unsharp-runs list, show, compare and plot read it all back.
# The database is read with Python's sqlite3 module, an independent reader.
# usage: runs_sqlite.sh BUILD_DIR
set -euo pipefail
BUILD_DIR=${1:?usage: runs_sqlite.sh BUILD_DIR}
NAME=runs_sqlite
. "$(dirname "$0")/runs_lib.sh"
pids=()
trap 'set +e; for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"' EXIT
DB=$T/exp.db
unset UNSHARP_DB
q() { "$PY" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=30)
for row in c.execute(sys.argv[2]): print("|".join("" if v is None else str(v) for v in row))
c.commit()' "${2:-$DB}" "$1"; }

# ---- 1. recording
"$BIN" --db "$DB" "${tiny[@]}" --epochs 3 --seed 3 --val "$T/val" --out "$T/a.usw" "$T/photos" > "$T/a.out" 2> "$T/a.err" \
  || fail "training failed: $(cat "$T/a.err")"
[ "$(q "SELECT count(*) FROM runs")" = 1 ] || fail "expected one run"
[ "$(q "SELECT status, weights, queued, data_files FROM runs WHERE id = 1")" = "done|$(realpath "$T/a.usw")|0|4" ] \
  || fail "run record: $(q "SELECT status, weights, queued, data_files FROM runs")"
# per-epoch values: what the trainer printed, formatted from the stored doubles the same way
grep -E '^ +[0-9]+ ' "$T/a.out" | awk '{ print $1, $2, $3, $4, $5, $7, $8 }' > "$T/printed"
q "SELECT epoch, train_loss, val_loss, val_acc, val_auc, lr, samples_per_s FROM epochs WHERE run_id = 1 ORDER BY epoch" |
  "$PY" -c 'import sys
for l in sys.stdin:
    e, tl, vl, a, auc, lr, r = l.strip().split("|")
    print(e, "%.4f" % float(tl), "%.4f" % float(vl), "%.3f" % float(a), "%.3f" % float(auc), "%.3e" % float(lr), "%.1f" % float(r))' > "$T/stored"
[ "$(wc -l < "$T/printed")" = 3 ] || fail "expected 3 printed epochs: $(cat "$T/a.out")"
diff "$T/printed" "$T/stored" > /dev/null || fail "stored epochs differ from the printed ones: $(diff "$T/printed" "$T/stored")"
# configuration: the arguments as given; the code version starts with the project version
[ "$(q "SELECT group_concat(arg, ' ') FROM (SELECT arg FROM run_args WHERE run_id = 1 ORDER BY pos)")" = \
  "${tiny[*]} --epochs 3 --seed 3 --val $T/val --out $T/a.usw $T/photos" ] || fail "stored arguments differ"
"$PY" -c 'import json, sys; c = json.loads(sys.argv[1]); assert c["epochs"] == 3 and c["seed"] == 3 and c["batch"] == 4 and c["argv"][-1] == sys.argv[2], c' \
  "$(q "SELECT config FROM runs WHERE id = 1")" "$T/photos" || fail "configuration JSON"
version=$("$BIN" --version | awk '{ print $2 }')
q "SELECT code_version FROM runs WHERE id = 1" | grep -q "^$version" || fail "code version: $(q "SELECT code_version FROM runs")"
# fingerprint: FNV-1a 64 over "path\tsize\tmtime_ns\n" of the sorted photo files
expect=$("$PY" -c 'import os, sys
h = 0xcbf29ce484222325
for p in sorted(os.path.join(sys.argv[1], f) for f in os.listdir(sys.argv[1])):
    st = os.stat(p)
    for b in ("%s\t%d\t%d\n" % (p, st.st_size, st.st_mtime_ns)).encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("%016x" % h)' "$T/photos")
[ "$(q "SELECT data_fingerprint FROM runs WHERE id = 1")" = "$expect" ] || fail "data fingerprint differs from $expect"

# the default store, and none
XDG_DATA_HOME=$T/xdg "$BIN" "${tiny[@]}" --epochs 1 --out "$T/d.usw" "$T/photos" > /dev/null 2>&1 || fail "default-store run"
[ "$(q "SELECT status FROM runs" "$T/xdg/unsharp/experiments.db")" = done ] || fail "no run in the default store"
XDG_DATA_HOME=$T/xdg2 "$BIN" --db none "${tiny[@]}" --epochs 1 --out "$T/n.usw" "$T/photos" > /dev/null 2>&1 || fail "--db none run"
XDG_DATA_HOME=$T/xdg2 UNSHARP_DB=none "$BIN" "${tiny[@]}" --epochs 1 --out "$T/n.usw" "$T/photos" > /dev/null 2>&1 || fail "UNSHARP_DB=none run"
[ -e "$T/xdg2/unsharp/experiments.db" ] && fail "--db none wrote a store"
# a run that fails is recorded failed
set +e
"$BIN" --db "$DB" "${tiny[@]}" --epochs 1 --out "$T/f.usw" "$T/no-such-folder" > /dev/null 2>&1; rc=$?
set -e
[ $rc = 2 ] || fail "a run without photos should exit 2, not $rc"
[ "$(q "SELECT status FROM runs WHERE id = 2")" = failed ] || fail "failed run: $(q "SELECT id, status FROM runs")"
# a store that cannot be opened, named by the user: exit 2 before training
set +e
"$BIN" --db "$T/no/such/dir/x.db" "${tiny[@]}" --epochs 1 --out "$T/f.usw" "$T/photos" > /dev/null 2>&1; rc=$?
set -e
[ $rc = 2 ] || fail "an unusable --db should exit 2, not $rc"

# ---- 2. SIGINT
long=(--scratch --crop 128 --batch 4 --crops-per-photo 40 --threads 1 -q --epochs 200)
"$BIN" --db "$DB" "${long[@]}" --out "$T/i.usw" "$T/photos" > "$T/i.out" 2>&1 &
p=$!; pids+=($p)
for _ in $(seq 600); do [ "$(q "SELECT count(*) FROM epochs WHERE run_id = 3")" -ge 1 ] && break; sleep 0.1; done
kill -INT $p
set +e; wait $p; rc=$?; set -e
[ $rc = 130 ] || fail "SIGINT should exit 130, not $rc: $(tail -3 "$T/i.out")"
[ "$(q "SELECT status FROM runs WHERE id = 3")" = interrupted ] || fail "SIGINT: $(q "SELECT id, status FROM runs")"
[ "$(q "SELECT count(*) FROM epochs WHERE run_id = 3")" -ge 1 ] || fail "the interrupted run lost its epochs"

# ---- 3. queue and worker
Q=$T/queue.db
for s in 1 2 3; do "$BIN" --db "$Q" --queue "${tiny[@]}" --epochs 2 --seed $s --out "$T/q$s.usw" "$T/photos" > "$T/q.out" || fail "queue $s"; done
grep -q '^queued run 3$' "$T/q.out" || fail "queue output: $(cat "$T/q.out")"
"$BIN" --db "$Q" --queue "${tiny[@]}" --epochs 1 --out "$T/bad.usw" "$T/no-such-folder" > /dev/null || fail "queue bad"
[ -e "$T/q1.usw" ] && fail "--queue trained"
[ "$(q "SELECT group_concat(status) FROM runs" "$Q")" = queued,queued,queued,queued ] || fail "not queued"
[ "$(q "SELECT count(*) FROM run_args WHERE arg IN ('--queue', '--db', '$Q')" "$Q")" = 0 ] || fail "tracking options were stored"
"$BIN" --db "$Q" --worker --once > "$T/w1.log" 2>&1 || fail "worker --once: $(cat "$T/w1.log")"
[ "$(q "SELECT group_concat(status) FROM runs" "$Q")" = done,queued,queued,queued ] || fail "--once: $(q "SELECT id, status FROM runs" "$Q")"
"$BIN" --db "$Q" --worker --drain > "$T/w2.log" 2>&1 || fail "worker --drain: $(cat "$T/w2.log")"
[ "$(q "SELECT group_concat(status) FROM runs" "$Q")" = done,done,done,failed ] || fail "--drain: $(q "SELECT id, status, message FROM runs" "$Q")"
[ "$(q "SELECT count(*) FROM epochs WHERE run_id = 2" "$Q")" = 2 ] || fail "queued run's epochs"
[ "$(q "SELECT weights FROM runs WHERE id = 3" "$Q")" = "$(realpath "$T/q3.usw")" ] || fail "queued run's weights"
cmp -s "$T/q1.usw" "$T/q1.usw" && [ -s "$T/q1.usw" ] && [ -s "$T/q3.usw" ] || fail "weights missing"
# the same run trained directly gives the same bytes: the worker ran the stored arguments
"$BIN" --db none "${tiny[@]}" --epochs 2 --seed 2 --out "$T/direct2.usw" "$T/photos" > /dev/null 2>&1
cmp -s "$T/q2.usw" "$T/direct2.usw" || fail "the worker's run differs from the same run trained directly"

# a worker stopped with SIGTERM stops its run, which is marked interrupted; the worker exits 143
"$BIN" --db "$Q" --queue "${long[@]}" --out "$T/sg.usw" "$T/photos" > /dev/null
"$BIN" --db "$Q" --worker > "$T/ws.log" 2>&1 & w=$!; pids+=($w)
for _ in $(seq 600); do [ "$(q "SELECT count(*) FROM epochs WHERE run_id = 5" "$Q")" -ge 1 ] && break; sleep 0.1; done
kill -TERM $w
set +e; wait $w; rc=$?; set -e
[ $rc = 143 ] || fail "a worker stopped by SIGTERM should exit 143, not $rc: $(tail -3 "$T/ws.log")"
[ "$(q "SELECT status FROM runs WHERE id = 5" "$Q")" = interrupted ] || fail "SIGTERM to the worker: $(q "SELECT id, status, message FROM runs" "$Q")"

# ---- 4. two workers, one queue
W=$T/two.db
for s in $(seq 8); do "$BIN" --db "$W" --queue "${tiny[@]}" --crops-per-photo 10 --epochs 2 --seed $s --out "$T/t$s.usw" "$T/photos" > /dev/null; done
"$BIN" --db "$W" --worker --drain > "$T/wa.log" 2>&1 & a=$!; pids+=($a)
"$BIN" --db "$W" --worker --drain > "$T/wb.log" 2>&1 & b=$!; pids+=($b)
wait $a || fail "worker a: $(cat "$T/wa.log")"
wait $b || fail "worker b: $(cat "$T/wb.log")"
[ "$(q "SELECT count(*) FROM runs WHERE status = 'done' AND attempts = 1" "$W")" = 8 ] || fail "two workers: $(q "SELECT id, status, attempts FROM runs" "$W")"
[ "$(q "SELECT count(*), count(DISTINCT run_id) FROM takes" "$W")" = "8|8" ] || fail "a run was taken twice: $(q "SELECT * FROM takes" "$W")"
sed -n 's/.* took run \([0-9]*\)$/\1/p' "$T/wa.log" | sort > "$T/ta"
sed -n 's/.* took run \([0-9]*\)$/\1/p' "$T/wb.log" | sort > "$T/tb"
[ -z "$(comm -12 "$T/ta" "$T/tb")" ] || fail "both workers took run(s) $(comm -12 "$T/ta" "$T/tb")"
[ "$(sort -n "$T/ta" "$T/tb" | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 " ] || fail "the workers' logs do not cover the queue"
echo "$NAME: two workers took $(wc -l < "$T/ta") and $(wc -l < "$T/tb") runs"

# ---- 5. crash recovery
C=$T/crash.db
crash_one() { # queues a long run, starts a worker, kills it with SIGKILL once an epoch is recorded
  "$BIN" --db "$C" --queue "${long[@]}" --epochs "$1" --out "$T/c$2.usw" "$T/photos" > /dev/null
  "$BIN" --db "$C" --worker --drain > "$T/cw$2.log" 2>&1 & w=$!; pids+=($w)
  for _ in $(seq 600); do [ "$(q "SELECT count(*) FROM epochs WHERE run_id = $2" "$C")" -ge 1 ] && break; sleep 0.1; done
  child=$(pgrep -P $w || true)
  [ -n "$child" ] || fail "no training child under the worker"
  kill -9 $w; wait $w 2>/dev/null || true
  for _ in $(seq 300); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$child" 2>/dev/null && fail "the training child outlived its killed worker"
  [ "$(q "SELECT status, pid FROM runs WHERE id = $2" "$C")" = "running|$w" ] || fail "after SIGKILL: $(q "SELECT id, status, pid FROM runs" "$C")"
}
crash_one 200 1
"$BIN" --db "$C" --worker --drain --max-attempts 1 > "$T/r1.log" 2>&1 || fail "recovering worker: $(cat "$T/r1.log")"
grep -q "0 abandoned run(s) put back in the queue, 1 marked interrupted" "$T/r1.log" || fail "recovery log: $(cat "$T/r1.log")"
[ "$(q "SELECT status, attempts FROM runs WHERE id = 1" "$C")" = "interrupted|1" ] || fail "max-attempts 1: $(q "SELECT id, status, attempts, message FROM runs" "$C")"
crash_one 6 2
"$BIN" --db "$C" --worker --drain > "$T/r2.log" 2>&1 || fail "recovering worker: $(cat "$T/r2.log")"
grep -q "1 abandoned run(s) put back in the queue, 0 marked interrupted" "$T/r2.log" || fail "recovery log: $(cat "$T/r2.log")"
[ "$(q "SELECT status, attempts FROM runs WHERE id = 2" "$C")" = "done|2" ] || fail "requeued run: $(q "SELECT id, status, attempts, message FROM runs" "$C")"
[ "$(q "SELECT count(*) FROM takes WHERE run_id = 2" "$C")" = 2 ] || fail "requeued run taken $(q "SELECT count(*) FROM takes WHERE run_id = 2" "$C") times"
[ "$(q "SELECT count(*) FROM epochs WHERE run_id = 2" "$C")" = 6 ] || fail "requeued run's epochs"
# a run on another host whose heartbeat stopped 10 minutes ago
"$BIN" --db "$C" --queue "${tiny[@]}" --epochs 1 --out "$T/h.usw" "$T/photos" > /dev/null
q "UPDATE runs SET status = 'running', host = 'elsewhere', pid = 1, attempts = 1, heartbeat = strftime('%s', 'now') - 600 WHERE id = 3" "$C"
"$BIN" --db "$C" --worker --drain --stale 300 > "$T/r3.log" 2>&1 || fail "stale worker: $(cat "$T/r3.log")"
[ "$(q "SELECT status, attempts FROM runs WHERE id = 3" "$C")" = "done|2" ] || fail "stale run: $(q "SELECT id, status, attempts, message FROM runs" "$C")"
# a fresh heartbeat from another host is left alone
"$BIN" --db "$C" --queue "${tiny[@]}" --epochs 1 --out "$T/h2.usw" "$T/photos" > /dev/null
q "UPDATE runs SET status = 'running', host = 'elsewhere', pid = 1, heartbeat = strftime('%s', 'now') WHERE id = 4" "$C"
"$BIN" --db "$C" --worker --drain --stale 300 > "$T/r4.log" 2>&1 || fail "worker: $(cat "$T/r4.log")"
[ "$(q "SELECT status FROM runs WHERE id = 4" "$C")" = running ] || fail "a live run on another host was recovered"

# ---- 6. unsharp-runs
"$RUNS" --db "$DB" list > "$T/list" || fail "list"
grep -qE '^ +1 +done .* 3 +[0-9.]+ +[0-9.]+ +[^ ]+ +[^ ]+ +[^ ]+ +/' "$T/list" || fail "list: $(cat "$T/list")"
grep -qE '^ +3 +interrupted ' "$T/list" || fail "list interrupted: $(cat "$T/list")"
"$RUNS" --db "$DB" list --status failed | grep -qE '^ +2 +failed' || fail "list --status"
"$RUNS" --db "$DB" show 1 > "$T/show" || fail "show"
grep -q "^data fingerprint  $expect" "$T/show" || fail "show: $(cat "$T/show")"
# show's epoch table has the printed values
grep -E '^ +[0-9]+ +[0-9]' "$T/show" | awk '{ print $1, $2, $3, $4, $5, $6, $7 }' > "$T/shown"
diff "$T/printed" "$T/shown" > /dev/null || fail "show's epochs differ from the printed ones: $(diff "$T/printed" "$T/shown")"
"$RUNS" --db "$C" show 2 | grep -qE '^attempts +2' || fail "show attempts"
"$RUNS" --db "$Q" compare 1 2 > "$T/cmp" || fail "compare"
[ "$(grep -cE '^ +[12] +[0-9.]+ +[0-9.]+ ' "$T/cmp")" = 2 ] || fail "compare: $(cat "$T/cmp")"
"$RUNS" --db "$DB" plot 1 3 --out "$T/p.svg" || fail "plot"
"$PY" -c 'import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
lines = r.findall("{http://www.w3.org/2000/svg}polyline")
assert len(lines) >= 4, len(lines)
assert len(lines[0].get("points").split()) == 3' "$T/p.svg" || fail "plot SVG"
set +e
"$RUNS" --db "$DB" show 99 > /dev/null 2>&1; [ $? = 1 ] || fail "show of a missing run should exit 1"
"$RUNS" --db "$DB" show x > /dev/null 2>&1; [ $? = 2 ] || fail "show x should exit 2"
"$RUNS" --db "$DB" frobnicate > /dev/null 2>&1; [ $? = 2 ] || fail "unknown command should exit 2"
set -e
echo "$NAME: ok"
