# test_photos.sh: the generated photos the shell tests share. Sourced.
# make_pgm SEED W H FILE: a textured 8-bit grey image (sines at a seed-dependent scale plus
# noise) as an ASCII PGM.
make_pgm() {
  awk -v s="$1" -v w="$2" -v h="$3" 'BEGIN { srand(s); print "P2\n" w " " h "\n255";
    for (y = 0; y < h; y++) { line = "";
      for (x = 0; x < w; x++) line = line " " int(128 + 100 * sin(x * s / 7.0) * cos(y / (3.0 + s)) + 20 * rand());
      print line } }' > "$4"
}
# make_train_photos DIR: four sharp 320x288 JPEGs, DIR/photos/p1.jpg .. p4.jpg, for tiny runs of
# unsharp-train (their PGM sources are left in DIR).
make_train_photos() {
  mkdir -p "$1/photos"
  for i in 1 2 3 4; do
    make_pgm "$i" 320 288 "$1/p$i.pgm"
    cjpeg -quality 95 -grayscale -outfile "$1/photos/p$i.jpg" "$1/p$i.pgm"
  done
}
