#!/bin/bash
# runs_pg.sh: the run queue on a real PostgreSQL server. Starts a private server (Debian's
# postgresql: initdb a temporary cluster, listening on 127.0.0.1 only, on a free port, its
# socket in the temporary folder), queues 10 tiny runs, starts two `unsharp-train --worker
# --drain` at the same time, and checks with psql, an independent reader, that all 10 are
# done with their epochs and weights, each taken exactly once (one row each in the takes log,
# attempts 1), and that the runs each worker's log says it took are disjoint and cover the
# queue. Skipped (77) when the server binaries are absent.
# usage: runs_pg.sh BUILD_DIR
set -euo pipefail
BUILD_DIR=${1:?usage: runs_pg.sh BUILD_DIR}
NAME=runs_pg
PGBIN=${UNSHARP_PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ] || [ ! -x "$PGBIN/psql" ]; then
  echo "$NAME: SKIP: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (Debian package postgresql)"
  exit 77
fi
as_pg=()
if [ "$(id -u)" = 0 ]; then
  id postgres > /dev/null 2>&1 || { echo "$NAME: SKIP: running as root and there is no postgres user to run the server"; exit 77; }
  as_pg=(runuser -u postgres --)
fi
. "$(dirname "$0")/runs_lib.sh"
unset UNSHARP_DB
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  [ -f "$T/pg/data/postmaster.pid" ] && "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$T/pg/data" -m immediate -w stop > /dev/null 2>&1
  rm -rf "$T"
}
trap cleanup EXIT
mkdir "$T/pg"
[ "${#as_pg[@]}" = 0 ] || chown postgres "$T/pg"
"${as_pg[@]}" "$PGBIN/initdb" -D "$T/pg/data" -U postgres -A trust -E UTF8 --no-sync > "$T/pg/initdb.log" 2>&1 \
  || fail "initdb: $(cat "$T/pg/initdb.log")"

# a free port: one nothing listens on; if another program takes it first, try the next
started=
for port in $(shuf -i 20000-60000 -n 10); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
  if "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$T/pg/data" -l "$T/pg/server.log" -w -t 60 \
       -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$T/pg -c fsync=off" start > /dev/null 2>&1; then
    started=1
    break
  fi
done
[ -n "$started" ] || fail "the server did not start: $(tail -5 "$T/pg/server.log")"
psql() { "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE runs" || fail "CREATE DATABASE"
DB="postgresql://postgres@127.0.0.1:$port/runs"
sql() { psql -d runs -c "$1"; }

for s in $(seq 10); do
  "$BIN" --db "$DB" --queue "${tiny[@]}" --crops-per-photo 30 --epochs 2 --seed $s --out "$T/r$s.usw" "$T/photos" > "$T/q.out" \
    || fail "queueing run $s"
done
[ "$(sql "SELECT count(*) FROM runs WHERE status = 'queued'")" = 10 ] || fail "10 queued runs expected"

"$BIN" --db "$DB" --worker --drain > "$T/wa.log" 2>&1 & a=$!; pids+=($a)
"$BIN" --db "$DB" --worker --drain > "$T/wb.log" 2>&1 & b=$!; pids+=($b)
wait $a || fail "worker a: $(tail -5 "$T/wa.log")"
wait $b || fail "worker b: $(tail -5 "$T/wb.log")"

[ "$(sql "SELECT count(*) FROM runs WHERE status = 'done' AND attempts = 1")" = 10 ] \
  || fail "not all done once: $(sql "SELECT id, status, attempts, message FROM runs ORDER BY id")"
[ "$(sql "SELECT count(*) || ' ' || count(DISTINCT run_id) FROM takes")" = "10 10" ] \
  || fail "a run was taken twice: $(sql "SELECT run_id, worker FROM takes ORDER BY run_id")"
[ "$(sql "SELECT count(*) FROM (SELECT run_id FROM epochs GROUP BY run_id HAVING count(*) = 2) e")" = 10 ] \
  || fail "epochs missing: $(sql "SELECT run_id, count(*) FROM epochs GROUP BY run_id")"
for s in $(seq 10); do [ -s "$T/r$s.usw" ] || fail "weights of run $s missing"; done
[ "$(sql "SELECT count(*) FROM runs WHERE weights LIKE '$T/r%.usw'")" = 10 ] || fail "weights paths not recorded"
# the workers' own logs: disjoint, together the whole queue, the same as the takes log
sed -n 's/.* took run \([0-9]*\)$/\1/p' "$T/wa.log" | sort > "$T/ta"
sed -n 's/.* took run \([0-9]*\)$/\1/p' "$T/wb.log" | sort > "$T/tb"
[ -z "$(comm -12 "$T/ta" "$T/tb")" ] || fail "both workers took run(s) $(comm -12 "$T/ta" "$T/tb" | tr '\n' ' ')"
[ "$(sort -n "$T/ta" "$T/tb" | tr '\n' ' ')" = "$(seq 10 | tr '\n' ' ')" ] || fail "the workers' logs do not cover the queue"
wa=$(grep -o 'worker [^ ]* on' "$T/wa.log" | head -n 1 | cut -d' ' -f2)
[ "$(sql "SELECT run_id FROM takes WHERE worker = '$wa' ORDER BY run_id")" = "$(sort -n "$T/ta")" ] || fail "takes log differs from worker a's log"
[ -s "$T/ta" ] && [ -s "$T/tb" ] || fail "one worker took every run: the queue was not shared ($(wc -l < "$T/ta") and $(wc -l < "$T/tb"))"
echo "$NAME: two workers took $(wc -l < "$T/ta") and $(wc -l < "$T/tb") of 10 runs, none twice"

# the reader on PostgreSQL
"$BUILD_DIR/train/runs/unsharp-runs" --db "$DB" list > "$T/list" || fail "unsharp-runs list"
[ "$(grep -cE '^ +[0-9]+ +done ' "$T/list")" = 10 ] || fail "list: $(cat "$T/list")"
"$BUILD_DIR/train/runs/unsharp-runs" --db "$DB" list --status done > /dev/null || fail "list --status"
"$BUILD_DIR/train/runs/unsharp-runs" --db "$DB" compare 1 2 | grep -qE '^ +2 ' || fail "compare"
echo "$NAME: ok"
