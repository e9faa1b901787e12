#!/bin/bash
# review_monkey.sh: 10,000 random mouse, wheel and key events (and a few window resizes)
# pushed into unsharp-review under Xvfb with --monkey, on a folder with good, blurred and bad
# files, a RAW companion and a subfolder; the window must take them all and exit 0, and have
# reached the preview, the compare view, the bulk mark, ratings or labels, the Trash, undo and
# redo. In the sanitizer build ASan/UBSan abort on any memory error; leaks are reported too,
# except those inside the system's X11, font and SDL libraries at exit (review_lsan.supp names
# only those libraries).
set -u
source "$(dirname "$0")/review_lib.sh"
for seed in ${REVIEW_MONKEY_SEEDS:-1 2 3}; do
  # a fresh folder for each seed (the one before may have trashed or marked any of it)
  P=$T/photos-$seed
  make_folder "$P"
  mkdir -p "$P/sub/deeper"
  cp "$P/sharp-02.jpg" "$P/sub/"
  cp "$P/blurry-02.jpg" "$P/sub/deeper/"
  echo "not a real RAW" > "$P/blurry-01.NEF"
  run_window --monkey "${REVIEW_MONKEY_EVENTS:-10000}" --seed "$seed" -j 1 "$P" 2> "$T/err.txt"
  rc=$?
  tail -n 30 "$T/err.txt" >&2
  [ $rc = 0 ] || fail "exit status $rc with seed $seed"
  grep -q "monkey: all events sent, no crash" "$T/err.txt" || fail "the window did not finish the events (seed $seed)"
  grep -q "ERROR: \(Address\|Leak\)Sanitizer\|runtime error" "$T/err.txt" && fail "sanitizer report (seed $seed)"
  grep "monkey: all events sent" "$T/err.txt" >> "$T/reached.txt"
done
# over the seeds, the random input reached every view and action
for what in previews compares "bulk dialogs" "ratings and labels" "trash batches" undos redos; do
  grep -q "$what [1-9]" "$T/reached.txt" || fail "no seed reached: $what"
done
echo "$NAME: ok"
