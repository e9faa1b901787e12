#!/bin/bash
# classify_xmp.sh: unsharp-classify --xmp, read back by exiv2 (an independent XMP reader): a
# darktable-style sidecar keeps every other field and gains xmp:Rating -1 and
# digiKam:PickLabel 1; NAME.xmp is updated when it is the sidecar there is; NAME.EXT.xmp is
# created when there is none; the photos themselves are never changed.
# usage: classify_xmp.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"
command -v exiv2 > /dev/null || skip "exiv2 is not installed (Debian package exiv2)"
P="$T/photos"; mkdir -p "$P"
blurry_jpg 1 "$P/dt.jpg"; blurry_jpg 2 "$P/lr.jpg"; blurry_jpg 3 "$P/none.jpg"
cat > "$P/dt.jpg.xmp" <<'XMP'
<?xml version="1.0" encoding="UTF-8"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:darktable="http://darktable.sf.net/"
   xmp:Rating="0"
   xmpMM:DerivedFrom="dt.jpg"
   darktable:xmp_version="5"
   darktable:raw_params="0"
   darktable:auto_presets_applied="1"
   darktable:history_end="2">
   <dc:subject>
    <rdf:Bag>
     <rdf:li>holiday</rdf:li>
     <rdf:li>beach</rdf:li>
    </rdf:Bag>
   </dc:subject>
   <darktable:history>
    <rdf:Seq>
     <rdf:li darktable:num="0" darktable:operation="exposure" darktable:enabled="1" darktable:params="0000000000"/>
     <rdf:li darktable:num="1" darktable:operation="sharpen" darktable:enabled="1" darktable:params="0011223344"/>
    </rdf:Seq>
   </darktable:history>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
XMP
cat > "$P/lr.xmp" <<'XMP'
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:crs="http://ns.adobe.com/camera-raw-settings/1.0/" crs:Exposure2012="+0.50"/>
</rdf:RDF></x:xmpmeta>
XMP
exiv2 -px "$P/dt.jpg.xmp" | grep -v '^Xmp.xmp.Rating ' | LC_ALL=C sort > "$T/dt.before"
[ "$(wc -l < "$T/dt.before")" -ge 8 ] || fail "exiv2 cannot read the test sidecar: $(cat "$T/dt.before")"
md5sum "$P"/*.jpg > "$T/photos.md5"

"$BIN" "${ALL_BLURRY[@]}" --xmp "$P" > /dev/null 2> "$T/err" || fail "--xmp run: $(cat "$T/err")"
md5sum -c --quiet "$T/photos.md5" || fail "a photo was changed"
for f in dt.jpg.xmp lr.xmp none.jpg.xmp; do
  [ -f "$P/$f" ] || fail "$f missing"
  exiv2 -px "$P/$f" > "$T/$f.txt" 2>&1 || true
  grep -qE '^Xmp\.xmp\.Rating +XmpText +2 +-1$' "$T/$f.txt" || fail "$f: no Rating -1: $(cat "$T/$f.txt")"
  grep -qE '^Xmp\.digiKam\.PickLabel +XmpText +1 +1$' "$T/$f.txt" || fail "$f: no PickLabel 1: $(cat "$T/$f.txt")"
done
[ ! -e "$P/lr.jpg.xmp" ] || fail "created lr.jpg.xmp although lr.xmp exists"
[ ! -e "$P/dt.xmp" ] && [ ! -e "$P/none.xmp" ] || fail "created a second sidecar"
grep -v '^Xmp.xmp.Rating \|^Xmp.digiKam.PickLabel \|^Xmp.unsharp.' "$T/dt.jpg.xmp.txt" | LC_ALL=C sort > "$T/dt.after"
diff "$T/dt.before" "$T/dt.after" > "$T/dt.diff" || fail "other fields changed: $(cat "$T/dt.diff")"
grep -qE '^Xmp\.crs\.Exposure2012 .*\+0\.50$' "$T/lr.xmp.txt" || fail "lr.xmp lost its Exposure2012"
ls -a "$P" | grep -q 'tmp' && fail "a temporary file was left: $(ls -a "$P")"
# a second run changes nothing more
cp "$P/dt.jpg.xmp" "$T/dt.once"
"$BIN" "${ALL_BLURRY[@]}" --xmp "$P" > /dev/null 2>&1 || fail "second --xmp run"
exiv2 -px "$P/dt.jpg.xmp" | LC_ALL=C sort > "$T/twice"; exiv2 -px "$T/dt.once" 2>/dev/null | LC_ALL=C sort > "$T/once" || true
[ -s "$T/once" ] && cmp -s "$T/once" "$T/twice" || fail "a second --xmp run changed the sidecar"
echo "classify_xmp: ok"
