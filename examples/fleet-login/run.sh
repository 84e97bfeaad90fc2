#!/usr/bin/env bash
# A simulated fleet against a broker that needs a login: a mosquitto of its own on 127.0.0.1 with a
# password file, and `sparrow sim --app` with the credentials in the broker URL. Ends with the fleet's
# report, and the fleet's exit code (0: every acknowledged reading reached the checker).
#   examples/fleet-login/run.sh [DEVICES] [DURATION]      (defaults: 20 boards for 30s)
# Needs mosquitto and mosquitto_passwd (Debian: mosquitto), and a built clone (npm run build).
set -euo pipefail
devices="${1:-20}" duration="${2:-30s}"
user=sensor password="fleet-$RANDOM$RANDOM"
sparrow="$(cd "$(dirname "$0")/../.." && pwd)/dist/node/sparrow.js"
dir="$(mktemp -d)"
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
mosquitto_passwd -c -b "$dir/passwords" "$user" "$password"
printf 'listener %s 127.0.0.1\nallow_anonymous false\npassword_file %s\n' "$port" "$dir/passwords" > "$dir/mosquitto.conf"
# as root, mosquitto drops to its own user, which must be able to read the password file
chmod 755 "$dir" && chmod 644 "$dir/passwords"
mosquitto -c "$dir/mosquitto.conf" 2> "$dir/mosquitto.log" & pid=$!
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "run.sh: mosquitto did not start:" >&2; cat "$dir/mosquitto.log" >&2; exit 1; }
  sleep 0.05
done

node "$sparrow" sim --app --devices "$devices" --duration "$duration" --broker "mqtt://$user:$password@127.0.0.1:$port"
