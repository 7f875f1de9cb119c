#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real (a terminal for TUI tests, chromium,
# PostgreSQL for the store tests, Redis for the bus tests), when they are missing. Needs root (or passwordless sudo) the
# first time.
set -euo pipefail
need=()
# redis-server (and redis-cli) for the bus and cluster tests, which start their own on a free port;
# openssl makes the TLS tests' certificates
for pair in "tmux:tmux" "chromium:chromium" "taskset:util-linux" "redis-server:redis-server" "redis-cli:redis-tools" "openssl:openssl"; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
# a font for the browser test's screenshots (chromium alone renders text as boxes)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=("fonts-dejavu-core")
# PostgreSQL's server binaries: the store tests initdb their own cluster in a temp dir on a free
# port. Some environments start the package's own cluster on :5432; the tests never use or touch it.
# mosquitto (an MQTT broker) for the MQTT bridge tests; it lives in /usr/sbin, off some PATHs
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null 2>&1 || need+=("mosquitto")
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=("postgresql")
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing Debian packages: ${need[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
