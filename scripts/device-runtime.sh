# Sourced by the backends' device-check.sh: unpacks a packed runtime (scripts/pack-runtime.sh,
# rg-backend-tornado/scripts/pack-runtime.sh) once and points RG and SHARED into it.
#   unpack_runtime ARCHIVE DIR NAME   -> $DIR/$NAME/bin/rg, $DIR/$NAME/shared
# A bare GPU machine may lack xz; Python's tarfile reads the archive then.
unpack_runtime() {
  local archive="$1" dir="$2" name="$3"
  if [ ! -x "$dir/$name/bin/rg" ]; then
    [ -f "$archive" ] || { echo "device-check: $archive not found (make it with the backend's pack-runtime.sh)" >&2; exit 2; }
    mkdir -p "$dir"
    tar -xJf "$archive" -C "$dir" 2>/dev/null \
      || python3 -c "import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])" "$archive" "$dir" 2>/dev/null \
      || { echo "device-check: cannot unpack $archive" >&2; exit 2; }
  fi
  RG="$dir/$name/bin/rg"
  SHARED="$dir/$name/shared"
}
step() { echo; echo "== $* ($(date +%T))"; }
