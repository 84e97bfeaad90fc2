#!/usr/bin/env bash
# Build the firmware and put it on a board over USB serial, so that it survives a reset.
#   ./flash.sh [--port P] [--baud B] [--profile small|full] [--no-build]
# The image goes into the board's Storage as its boot code (.bootcde) and is checked by CRC32; then
# the board boots it and must report this package's version in its telemetry (docs/serial.md).
# Needs only what `npm install` (or `npm ci`) gives: Node, this package and its serialport dependency.
set -euo pipefail
cd "$(dirname "$0")"

port="" baud=115200 profile=full build=1
usage() { echo "usage: ./flash.sh [--port P] [--baud B] [--profile small|full] [--no-build]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --port) [ $# -ge 2 ] || usage; port="$2"; shift 2 ;;
    --baud) [ $# -ge 2 ] || usage; baud="$2"; shift 2 ;;
    --profile) [ $# -ge 2 ] || usage; profile="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "flash.sh: unknown option $1" >&2; usage ;;
  esac
done
case "$profile" in small|full) ;; *) echo "flash.sh: --profile is small or full, not $profile" >&2; exit 2 ;; esac

if [ ! -d node_modules/serialport ]; then
  echo "flash.sh: dependencies are missing; run npm install (or npm ci) first" >&2; exit 1
fi
if [ "$build" = 1 ]; then
  npm run --silent build || { echo "flash.sh: the build failed; nothing was uploaded" >&2; exit 1; }
fi
image="dist/espruino/firmware.$profile.js"
[ -f "$image" ] || { echo "flash.sh: $image is missing; run without --no-build" >&2; exit 1; }
version=$(node -p "require('./package.json').version")

exec node dist/node/sparrow.js flash-upload --file "$image" --baud "$baud" --expect-version "$version" ${port:+--port "$port"}
