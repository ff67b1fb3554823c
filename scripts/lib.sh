# Shared by scripts/test, scripts/demo and .ci/run: source it, then call
# provision_system_packages (what the tests need from apt) and ensure_uv.

# What the test suite needs from the system, as "program:debian-package". Each
# package is installed only when its program is missing from PATH.
#   redis-server: the Redis backend's tests run a real server on loopback.
#   chromium:     the maintenance page is rendered in real headless Chromium.
#   nginx:        exemptions by client address are tested behind a real proxy.
TEST_SYSTEM_PACKAGES=("redis-server:redis-server" "chromium:chromium" "nginx:nginx-light")

# Install the packages of the "program:package" entries given whose program is
# not on PATH, with apt-get (directly as root, else through sudo). Without root
# or sudo it stops with one message saying what to install.
provision_system_packages() {
    local missing=() programs=() entry program package
    for entry in "$@"; do
        program=${entry%%:*}
        package=${entry#*:}
        if ! command -v "$program" >/dev/null 2>&1 && [[ ! -x "/usr/sbin/$program" ]]; then
            missing+=("$package")
            programs+=("$program")
        fi
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    local runner=()
    if [[ "$(id -u)" != 0 ]]; then
        if ! command -v sudo >/dev/null 2>&1 || ! sudo -n true 2>/dev/null; then
            echo "error: the tests need ${programs[*]}, which this machine lacks, and installing" \
                "them needs root: run 'sudo apt-get install -y ${missing[*]}' (Debian/Ubuntu)," \
                "then run this command again." >&2
            return 2
        fi
        runner=(sudo -n)
    fi
    echo "==> installing ${missing[*]} with apt-get: the tests need ${programs[*]}" \
        "(real servers and a real browser, not mocks)"
    "${runner[@]}" apt-get update -qq
    "${runner[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Put uv on PATH, installing it with pip when the machine has none (a fresh
# machine has only Python, pip and apt).
ensure_uv() {
    if command -v uv >/dev/null 2>&1; then
        return 0
    fi
    local uv_bin
    if ! uv_bin=$(python3 -c 'import uv; print(uv.find_uv_bin())' 2>/dev/null); then
        echo "==> uv not found: installing it with pip"
        if python3 -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
            python3 -m pip install uv # python3 is a virtualenv's
        else
            # --break-system-packages: Debian's own Python refuses even --user installs without it.
            python3 -m pip install --user uv ||
                python3 -m pip install --user --break-system-packages uv
        fi
        uv_bin=$(python3 -c 'import uv; print(uv.find_uv_bin())')
    fi
    PATH="$(dirname "$uv_bin"):$PATH"
    export PATH
}
