#!/bin/bash
# classify_sidecars.sh: sidecars in darktable's layout (IMG.CR2.xmp, IMG.JPG.xmp) and digiKam's
# (IMG.NEF.xmp, or IMG.xmp with its compatible names), each read back with exiv2 (an
# independent XMP reader): --xmp on a RAW+JPEG pair marks the RAW's sidecar, creating
# IMG.CR2.xmp when there is none, and the JPEG's when it has one; an explicit rating is kept in
# unsharp:PriorRating; a photo a person accepted (digiKam's PickLabel 3, stars, the review
# window's keep, in the RAW's sidecar or the JPEG's) is left alone by --xmp, --trash and
# --move-to with a message; and every layout travels with its photo to the Trash and a folder.
# usage: classify_sidecars.sh BUILD_DIR
set -euo pipefail
source "$(dirname "$0")/classify_lib.sh"
command -v exiv2 > /dev/null || skip "exiv2 is not installed (Debian package exiv2)"
export XDG_DATA_HOME="$T/data" HOME="$T/home"
mkdir -p "$HOME" "$XDG_DATA_HOME"
P="$T/photos"; mkdir -p "$P"

# xmp FILE ATTRS: a sidecar with these attributes on its rdf:Description, and a tag to keep
xmp() {
  cat > "$1" <<XMP
<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
 <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:digiKam="http://www.digikam.org/ns/1.0/" xmlns:darktable="http://darktable.sf.net/"
  xmlns:unsharp="http://ns.unsharp.org/1.0/" $2>
  <dc:subject><rdf:Bag><rdf:li>tag-$(basename "$1")</rdf:li></rdf:Bag></dc:subject>
 </rdf:Description></rdf:RDF></x:xmpmeta>
XMP
}
# val FILE KEY: the value exiv2 reads ("" when absent)
val() { exiv2 -PXkv "$1" 2> /dev/null | awk -v k="$2" '$1 == k { $1 = ""; sub(/^ +/, ""); print }'; }
want() { # want FILE KEY VALUE
  local got; got=$(val "$1" "$2")
  [ "$got" = "$3" ] || fail "$(basename "$1"): $2 is '$got', not '$3'"
}
pair() { blurry_jpg "$1" "$P/$2.JPG"; echo "raw $1" > "$P/$2.${3:-CR2}"; }

# 1 darktable, no sidecar yet: IMG_1.CR2.xmp is made, IMG_1.JPG.xmp is not
pair 1 IMG_1
# 2 darktable, both sidecars, rating 0: both marked, the 0 kept
pair 2 IMG_2; xmp "$P/IMG_2.CR2.xmp" 'xmp:Rating="0" darktable:xmp_version="5"'; xmp "$P/IMG_2.JPG.xmp" 'xmp:Rating="0"'
# 3 digiKam's default names: IMG_3.NEF.xmp marked, nothing else made
pair 3 IMG_3 NEF; xmp "$P/IMG_3.NEF.xmp" 'digiKam:ColorLabel="4"'
# 4 digiKam's compatible names: IMG_4.xmp marked, no IMG_4.NEF.xmp made
pair 4 IMG_4 NEF; xmp "$P/IMG_4.xmp" ''
# 5-8 accepted by a person: digiKam's PickLabel 3 in the RAW's sidecar, 3 stars in the JPEG's,
# the review window's keep, darktable stars in IMG.xmp: left alone
pair 5 IMG_5 NEF; xmp "$P/IMG_5.NEF.xmp" 'digiKam:PickLabel="3"'
pair 6 IMG_6; xmp "$P/IMG_6.JPG.xmp" 'xmp:Rating="3"'
blurry_jpg 7 "$P/solo_7.jpg"; xmp "$P/solo_7.jpg.xmp" 'unsharp:Mark="keep" unsharp:MarkedBy="person"'
pair 8 IMG_8; xmp "$P/IMG_8.CR2.xmp" 'xmp:Rating="2"'
# 9 the tool's own reject from an earlier run is not a person's keep
blurry_jpg 9 "$P/solo_9.jpg"; xmp "$P/solo_9.jpg.xmp" 'unsharp:Mark="reject" unsharp:MarkedBy="unsharp-classify" xmp:Rating="-1"'
cp -a "$P" "$T/pristine"
( cd "$P" && md5sum * ) > "$T/before.md5"
kept_md5() { for f in IMG_5.JPG IMG_5.NEF IMG_5.NEF.xmp IMG_6.JPG IMG_6.CR2 IMG_6.JPG.xmp solo_7.jpg solo_7.jpg.xmp \
                      IMG_8.JPG IMG_8.CR2 IMG_8.CR2.xmp; do grep "  $f\$" "$T/before.md5"; done; }

"$BIN" "${ALL_BLURRY[@]}" --xmp "$P" > /dev/null 2> "$T/err" || fail "--xmp run: $(cat "$T/err")"
want "$P/IMG_1.CR2.xmp" Xmp.xmp.Rating -1
want "$P/IMG_1.CR2.xmp" Xmp.digiKam.PickLabel 1
want "$P/IMG_1.CR2.xmp" Xmp.unsharp.Mark reject
want "$P/IMG_1.CR2.xmp" Xmp.unsharp.MarkedBy unsharp-classify
[ ! -e "$P/IMG_1.JPG.xmp" ] && [ ! -e "$P/IMG_1.xmp" ] || fail "IMG_1: a JPEG sidecar was made: $(ls "$P")"
for f in IMG_2.CR2.xmp IMG_2.JPG.xmp; do
  want "$P/$f" Xmp.xmp.Rating -1; want "$P/$f" Xmp.unsharp.PriorRating 0; want "$P/$f" Xmp.dc.subject "tag-$f"
done
want "$P/IMG_2.CR2.xmp" Xmp.darktable.xmp_version 5
want "$P/IMG_3.NEF.xmp" Xmp.xmp.Rating -1; want "$P/IMG_3.NEF.xmp" Xmp.digiKam.ColorLabel 4
want "$P/IMG_4.xmp" Xmp.xmp.Rating -1; want "$P/IMG_4.xmp" Xmp.digiKam.PickLabel 1
[ ! -e "$P/IMG_3.xmp" ] && [ ! -e "$P/IMG_3.JPG.xmp" ] && [ ! -e "$P/IMG_4.NEF.xmp" ] && [ ! -e "$P/IMG_4.JPG.xmp" ] ||
  fail "a second sidecar was made: $(ls "$P")"
want "$P/solo_9.jpg.xmp" Xmp.xmp.Rating -1
( cd "$P" && kept_md5 | md5sum -c --quiet ) || fail "a photo a person kept was changed"
for f in IMG_5.JPG IMG_6.JPG solo_7.jpg IMG_8.JPG; do
  grep -q "$f: kept, because a person marked it keep" "$T/err" || fail "no message for $f: $(cat "$T/err")"
done
[ "$(grep -c 'kept, because' "$T/err")" = 4 ] || fail "want 4 kept messages: $(cat "$T/err")"
[ ! -e "$P/IMG_5.JPG.xmp" ] && [ ! -e "$P/IMG_6.CR2.xmp" ] && [ ! -e "$P/IMG_8.JPG.xmp" ] || fail "a kept photo got a sidecar"
ls -a "$P" | grep -q 'tmp' && fail "a temporary file was left: $(ls -a "$P")"

# --trash: every sidecar layout goes with its photo; the kept photos stay
"$BIN" "${ALL_BLURRY[@]}" --trash "$P" > /dev/null 2> "$T/err" || fail "--trash run: $(cat "$T/err")"
left=$(cd "$P" && ls | sort | tr '\n' ' ')
[ "$left" = "IMG_5.JPG IMG_5.NEF IMG_5.NEF.xmp IMG_6.CR2 IMG_6.JPG IMG_6.JPG.xmp IMG_8.CR2 IMG_8.CR2.xmp IMG_8.JPG solo_7.jpg solo_7.jpg.xmp " ] ||
  fail "left in the folder: $left"
( cd "$P" && kept_md5 | md5sum -c --quiet ) || fail "a photo a person kept was changed"
trashed=$(cd "$XDG_DATA_HOME/Trash/files" && ls | sort | tr '\n' ' ')
[ "$trashed" = "IMG_1.CR2 IMG_1.CR2.xmp IMG_1.JPG IMG_2.CR2 IMG_2.CR2.xmp IMG_2.JPG IMG_2.JPG.xmp IMG_3.JPG IMG_3.NEF IMG_3.NEF.xmp IMG_4.JPG IMG_4.NEF IMG_4.xmp solo_9.jpg solo_9.jpg.xmp " ] ||
  fail "in the trash: $trashed"
want "$XDG_DATA_HOME/Trash/files/IMG_1.CR2.xmp" Xmp.xmp.Rating -1
[ "$(grep -c 'kept, because' "$T/err")" = 4 ] || fail "want 4 kept messages: $(cat "$T/err")"

# --move-to, from the pristine folder: the same sets move, marked on the way; the kept stay
rm -rf "$P"; cp -a "$T/pristine" "$P"
"$BIN" "${ALL_BLURRY[@]}" --xmp --move-to "$T/out" "$P" > /dev/null 2> "$T/err" || fail "--move-to run: $(cat "$T/err")"
left=$(cd "$P" && ls | sort | tr '\n' ' ')
[ "$left" = "IMG_5.JPG IMG_5.NEF IMG_5.NEF.xmp IMG_6.CR2 IMG_6.JPG IMG_6.JPG.xmp IMG_8.CR2 IMG_8.CR2.xmp IMG_8.JPG solo_7.jpg solo_7.jpg.xmp " ] ||
  fail "left in the folder: $left"
moved=$(cd "$T/out" && ls | sort | tr '\n' ' ')
[ "$moved" = "$trashed" ] || fail "moved: $moved"
want "$T/out/IMG_1.CR2.xmp" Xmp.xmp.Rating -1
want "$T/out/IMG_2.JPG.xmp" Xmp.unsharp.PriorRating 0
want "$T/out/IMG_4.xmp" Xmp.dc.subject tag-IMG_4.xmp
( cd "$P" && kept_md5 | md5sum -c --quiet ) || fail "a photo a person kept was changed"
grep -q "IMG_5.JPG: kept, because a person marked it keep (in .*IMG_5.NEF.xmp); not marked or moved" "$T/err" ||
  fail "the message: $(cat "$T/err")"
echo "classify_sidecars: ok"
