#!/usr/bin/env bash
# Installs everything Switchyard needs to build, run and test on Debian 12 (bookworm), as root.
# Idempotent: a second run installs nothing and exits 0.
#
# Debian packages come from the system's apt sources. prometheus-cpp 1.0.2 is not in
# bookworm: it is fetched from trixie with a private sources list and a private lists
# directory (the system's apt configuration is never touched) and unpacked into
# .deps/prometheus-cpp (git-ignored), where CMake finds it via CMAKE_PREFIX_PATH.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
deps="${SWITCHYARD_DEPS_DIR:-$root/.deps}"
prefix="$deps/prometheus-cpp"

die() { echo "install-deps: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root (it installs Debian packages)"
command -v apt-get >/dev/null || die "apt-get not found: this script supports Debian 12 only"

packages=(
  # build
  build-essential cmake pkg-config git ca-certificates curl
  clang clang-format clang-tidy libclang-rt-14-dev
  # libraries
  libcpp-httplib-dev libyaml-cpp-dev libpqxx-dev libpq-dev libabsl-dev nlohmann-json3-dev
  libspdlog-dev libfmt-dev libcli11-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # prometheus-cpp's CMake config checks for these
  civetweb libcivetweb-dev libcurl4-openssl-dev zlib1g-dev
  # the real parts and the tools the tests use
  postgresql-15 postgresql-client-15 nginx wrk prometheus procps psmisc iproute2 jq
  # the multi-host stack's fault kit (tests/integration/multihost: one-way drops)
  nftables
)
[ -x /usr/bin/kubectl ] || command -v kubectl >/dev/null || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed"
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    for p in "${missing[@]}"; do
      apt-get install -y -qq --no-install-recommends "$p" >/dev/null \
        || die "cannot install Debian package '$p'"
    done
  fi
else
  echo "install-deps: Debian packages already installed"
fi

# Debian starts the packaged nginx and prometheus services on install; Switchyard's stack
# runs its own instances on its own ports, so stop the packaged ones if they run.
for svc in nginx prometheus; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  fi
done
for pidfile in /run/nginx.pid; do
  if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill -QUIT "$(cat "$pidfile")" || true
  fi
done

# prometheus-cpp 1.0.2 from trixie, into a private prefix.
if [ -f "$prefix/usr/lib/x86_64-linux-gnu/cmake/prometheus-cpp/prometheus-cpp-config.cmake" ]; then
  echo "install-deps: prometheus-cpp already in $prefix"
else
  echo "install-deps: fetching prometheus-cpp 1.0.2 from trixie into $prefix"
  apt_dir="$deps/apt"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$prefix"
  # The mirror is the one the system already uses for Debian's main archive.
  mirror=$(awk '/^URIs:/ {print $2}' /etc/apt/sources.list.d/*.sources 2>/dev/null \
             | grep -v security | head -1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 ~ /^bookworm$/ {print $2; exit}' \
                                 /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || die "cannot find the Debian mirror in the system's apt sources"
  echo "deb $mirror trixie main" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache::Archives=$apt_dir/archives"
            -o APT::Get::List-Cleanup=0)
  apt-get "${apt_opts[@]}" update -qq || die "cannot read trixie's package lists (prometheus-cpp)"
  pkgs=(prometheus-cpp-dev libprometheus-cpp-core1.0 libprometheus-cpp-pull1.0
        libprometheus-cpp-push1.0)
  chmod 755 "$deps" "$apt_dir" "$apt_dir/archives"
  (cd "$apt_dir/archives" && apt-get -o APT::Sandbox::User=root "${apt_opts[@]}" download "${pkgs[@]}") \
    || die "cannot download ${pkgs[*]} from trixie"
  for p in "${pkgs[@]}"; do
    deb=$(ls "$apt_dir/archives/${p}_"*.deb 2>/dev/null | head -1)
    [ -n "$deb" ] || die "download of package '$p' produced no .deb"
    dpkg-deb -x "$deb" "$prefix" || die "cannot unpack '$deb'"
  done
  [ -f "$prefix/usr/lib/x86_64-linux-gnu/cmake/prometheus-cpp/prometheus-cpp-config.cmake" ] \
    || die "prometheus-cpp unpacked but its CMake config is missing under $prefix"
fi

# The postgres OS user must be able to read the project (tests run its tools from here).
id postgres >/dev/null 2>&1 || die "the postgres OS user is missing (package postgresql-15)"
echo "install-deps: done"
