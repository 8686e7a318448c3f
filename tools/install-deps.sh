#!/usr/bin/env bash
# Installs the Debian 12 packages relais needs to build, test and benchmark.
# Idempotent: only missing packages are installed. Needs root (or sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libboost1.81-dev libboost-url1.81-dev
  libcurl4-openssl-dev libssl-dev libsqlite3-dev
  rapidjson-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev
  libpugixml-dev gsoap libgsoap-dev libmimalloc-dev libsimdjson-dev libre2-dev
  python3-zeep
  curl python3 openssl nginx-light wrk clang-format
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

# Node runs the OpenID provider of the FranceConnect tests. Any node >= 18
# with npm will do (Debian 12's, or one already installed from elsewhere).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages of the tests, exactly as locked; again only when the lock
# changed since the last install.
for dir in oidc soap; do
  peer="$(dirname "$0")/../tests/support/$dir"
  if [ ! -f "$peer/node_modules/.package-lock.json" ] ||
     ! cmp -s "$peer/package-lock.json" "$peer/node_modules/.relais-installed-lock"; then
    echo "install-deps: npm ci in tests/support/$dir"
    npm ci --prefix "$peer" --no-audit --no-fund --loglevel=error
    cp "$peer/package-lock.json" "$peer/node_modules/.relais-installed-lock"
  fi
done
