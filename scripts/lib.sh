# Shared by scripts/test, scripts/demo and .ci/run: source it, then call ensure_uv.

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
