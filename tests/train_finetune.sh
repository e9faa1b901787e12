#!/bin/bash
# train_finetune.sh: fine-tuning the shipped weights on a photographer's own photos, in seconds
# on 20 generated photos with crisp edges (the shipped weights call them sharp):
#  1. a gentle run (the fine-tuning defaults) holds back 2 of the 20 photos, reports them every
#     epoch in words beside the starting weights' figures, passes the safety gate, writes --out,
#     removes its checkpoint from $XDG_CACHE_HOME/unsharp/, and unsharp-runs shows the figures,
#     the gate's decision and the checkpoint's path;
#  2. a harmful run (--lr 0.1, neither pulled nor kept near the starting weights) is refused: exit 1, --out not written, the
#     candidate written aside as OUT.rejected.usw with the reason (keepers lost, less blur
#     caught, or a loss that climbed far above the first step's), the checkpoint removed;
#  3. the same with --force writes --out; --checkpoint FILE keeps its file, and --resume from it
#     checks against the starting weights again;
#  4. --from-marks reads a person's keep and reject marks from XMP sidecars written here, and not
#     unsharp-classify's own reject mark.
# usage: train_finetune.sh BUILD_DIR
set -euo pipefail
BUILD=${1:?usage: train_finetune.sh BUILD_DIR}
BIN=$BUILD/train/unsharp-train
RUNS=$BUILD/train/runs/unsharp-runs
T=$(mktemp -d /tmp/unsharp-finetune-XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "train_finetune: FAIL: $*" >&2; exit 1; }
export XDG_CACHE_HOME=$T/cache UNSHARP_DB=$T/runs.db

# edges SEED FILE: a 192x160 grey JPEG of crisp stripes and checks over large light and dark
# blocks, plus noise. The blocks keep a blurred copy's contrast: fine stripes alone blur to an
# even grey, which the photo head holds at the line as too flat to call blurry.
edges() {
  awk -v s="$1" -v w=192 -v h=160 'BEGIN { srand(s); print "P2\n" w " " h "\n255"; a = 3 + s % 5; b = 4 + s % 3; c = 24 + 4 * (s % 4);
    for (y = 0; y < h; y++) { line = "";
      for (x = 0; x < w; x++) { v = ((int((x + 7 * sin(y / 9.0)) / a) + int(y / b)) % 2) ? 40 : -40;
        v += ((int(x / c) + int((y + 5 * s) / c)) % 2) ? 170 : 70; line = line " " int(v + 20 * rand()) }
      print line } }' | cjpeg -quality 95 -grayscale -outfile "$2"
}
mkdir -p "$T/photos" "$T/marks"
for i in $(seq 1 20); do edges "$i" "$T/photos/e$i.jpg"; done
common=(--crop 64 --batch 4 --crops-per-photo 2 --threads 1 --seed 3 -q)

# 1. a gentle run
"$BIN" "${common[@]}" --epochs 2 --out "$T/mine.usw" "$T/photos" > "$T/1.out" 2> "$T/1.err" || fail "the gentle run failed: $(cat "$T/1.err")"
grep -q '^# the starting weights on the held back photos: keepers kept 100 % (2 of 2), blur caught 100 % (2 of 2)' "$T/1.out" ||
  fail "no starting figures on 2 held-back photos: $(cat "$T/1.out")"
grep -q '^# unsharp-train: 18 photos' "$T/1.out" || fail "the held-back photos were trained on: $(cat "$T/1.out")"
[ "$(grep -cE '^ +held back: keepers kept [0-9]+ % \([0-9]+ of 2\), blur caught [0-9]+ % \([0-9]+ of 2\) \(the starting weights: kept 100 %, caught 100 %\)' "$T/1.out")" = 2 ] ||
  fail "not one held-back line an epoch: $(cat "$T/1.out")"
grep -q '^# passed the safety gate' "$T/1.out" || fail "the gentle run did not pass the gate: $(cat "$T/1.out")"
grep -q 'unstable' "$T/1.out" && fail "the gentle run was called unstable: $(cat "$T/1.out")"
[ -s "$T/mine.usw" ] || fail "--out not written"
ckpt=$(sed -n 's/^unsharp-train: checkpoint \(.*\) (removed when the run ends.*/\1/p' "$T/1.err")
case "$ckpt" in "$T/cache/unsharp/mine-"*.ckpt) ;; *) fail "checkpoint not in \$XDG_CACHE_HOME/unsharp: '$ckpt'" ;; esac
[ -e "$ckpt" ] && fail "the checkpoint $ckpt was left behind"
ls "$T"/*.ckpt > /dev/null 2>&1 && fail "a checkpoint was left beside the output"
"$RUNS" show 1 > "$T/show1" || fail "unsharp-runs show failed"
grep -q "^checkpoint *$ckpt" "$T/show1" || fail "show does not print the checkpoint path: $(cat "$T/show1")"
grep -q "^safety gate *passed" "$T/show1" || fail "show does not print the gate's decision: $(cat "$T/show1")"
grep -qE '^ *start +held back +2 +2 +2 +2' "$T/show1" || fail "show lacks the starting figures: $(cat "$T/show1")"
grep -qE '^ +2 +held back ' "$T/show1" || fail "show lacks the held-back figures of epoch 2: $(cat "$T/show1")"
"$RUNS" list | grep -qE '^ +1 +done .* passed' || fail "list lacks the gate: $("$RUNS" list)"
"$RUNS" plot 1 --out "$T/p.svg" > "$T/plot.out" 2>&1 || fail "plot failed: $(cat "$T/plot.out")"
grep -q 'keepers kept' "$T/p.svg" || fail "the plot lacks the held-back panel"
grep -q 'no validation' "$T/plot.out" || fail "plot does not say what it lacks: $(cat "$T/plot.out")"

# 2. a harmful run is refused
set +e
"$BIN" "${common[@]}" --epochs 3 --lr 0.1 --pull 0 --keep 0 --out "$T/bad.usw" "$T/photos" > "$T/2.out" 2> "$T/2.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "the harmful run exited $rc, not 1: $(cat "$T/2.out" "$T/2.err")"
[ -e "$T/bad.usw" ] && fail "refused weights were written to --out"
[ -s "$T/bad.rejected.usw" ] || fail "the refused candidate was not written aside"
grep -q '^# REFUSED: ' "$T/2.out" || fail "no plain refusal: $(cat "$T/2.out")"
grep -qE 'would now be called blurry|blur caught fell from|training went unstable' "$T/2.out" || fail "the refusal does not say why: $(cat "$T/2.out")"
grep -q 'bad.rejected.usw' "$T/2.err" || fail "stderr does not say where the candidate is: $(cat "$T/2.err")"
[ -z "$(ls -A "$T/cache/unsharp")" ] || fail "the refused run left its checkpoint: $(ls "$T/cache/unsharp")"
mkdir -p "$T/val/sharp" && cp "$T/photos/e1.jpg" "$T/val/sharp/"
"$BIN" --evaluate "$T/val" --init "$T/bad.rejected.usw" > /dev/null 2>&1 || fail "the refused candidate does not load"
"$RUNS" show 2 | grep -q '^safety gate *refused' || fail "show lacks the refusal: $("$RUNS" show 2)"

# 3. --force, --checkpoint FILE, --resume
"$BIN" "${common[@]}" --epochs 3 --lr 0.1 --pull 0 --keep 0 --force --checkpoint "$T/keep.ckpt" --out "$T/forced.usw" "$T/photos" \
  > "$T/3.out" 2> "$T/3.err" || fail "--force did not end well: $(cat "$T/3.err")"
[ -s "$T/forced.usw" ] || fail "--force did not write --out"
grep -q 'anyway (--force)' "$T/3.out" || fail "--force does not say the gate refused: $(cat "$T/3.out")"
[ -s "$T/keep.ckpt" ] || fail "--checkpoint FILE was not kept"
"$BIN" "${common[@]}" --epochs 4 --lr 0.1 --pull 0 --keep 0 --resume "$T/keep.ckpt" --checkpoint "$T/keep.ckpt" --out "$T/resumed.usw" \
  "$T/photos" > "$T/4.out" 2> "$T/4.err" || true
grep -qE '^ +4 ' "$T/4.out" && ! grep -qE '^ +3 ' "$T/4.out" || fail "resume did not run only epoch 4: $(cat "$T/4.out" "$T/4.err")"
grep -q '^# the starting weights on the held back photos' "$T/4.out" || fail "a resumed run forgot its starting weights: $(cat "$T/4.out")"

# 4. --from-marks: a person's marks only
sidecar() { # FILE ATTRIBUTES
  printf '<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:unsharp="http://ns.unsharp.org/1.0/" %s/>
</rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>\n' "$2" > "$1"
}
for i in 21 22 23 24; do edges "$i" "$T/marks/m$i.jpg"; done
sidecar "$T/marks/m21.jpg.xmp" 'unsharp:Mark="keep" unsharp:MarkedBy="person"'
sidecar "$T/marks/m22.jpg.xmp" 'unsharp:Mark="reject" unsharp:MarkedBy="person" xmp:Rating="-1"'
sidecar "$T/marks/m23.jpg.xmp" 'unsharp:Mark="reject" unsharp:MarkedBy="unsharp-classify" xmp:Rating="-1"'
"$BIN" "${common[@]}" --epochs 1 --from-marks "$T/marks" --out "$T/marks.usw" "$T/photos" > "$T/5.out" 2> "$T/5.err" ||
  [ $? = 1 ] || fail "--from-marks failed: $(cat "$T/5.err")"
grep -q 'marks: 1 photos a person marked keep, 1 marked reject (and unsharp-classify' "$T/5.err" ||
  fail "--from-marks did not read exactly the person's two marks: $(cat "$T/5.err")"
grep -q '^unsharp-train: 1 labelled sharp and 1 labelled blurry photos' "$T/5.err" || fail "the marked photos were not used: $(cat "$T/5.err")"
grep -q '^# the starting weights on the labelled photos: keepers kept 100 % (1 of 1), blur caught 0 % (0 of 1)' "$T/5.out" ||
  fail "the marked photos are not checked: $(cat "$T/5.out")"
echo "train_finetune: ok"
