#!/usr/bin/env bash
# Create or reuse a virtual environment with pinned requirements:
#   venv.sh                                  .venv from requirements.txt
#   venv.sh .venv-iac requirements-iac.txt   a tool environment of its own
# Reused as long as the requirements file and the interpreter are unchanged.
# Needs a Python >= 3.12 (ansible-core 2.21 requires it).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv}
requirements=${2:-requirements.txt}
stamp="$venv/.requirements.sha256"
UV_VERSION=0.13.9

python_is_new_enough() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null
}

find_python() {
  local candidate
  local -a candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.13 python3.12 python3)
  if command -v pyenv >/dev/null 2>&1; then
    local version
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.(1[2-9]|[2-9][0-9])' | sort -rV); do
      candidates+=("$(pyenv prefix "$version")/bin/python3")
    done
  fi
  for candidate in "${candidates[@]}"; do
    if command -v "$candidate" >/dev/null 2>&1 && python_is_new_enough "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

want=$(sha256sum <"$requirements" | cut -d' ' -f1)
if [ -x "$venv/bin/python" ] && python_is_new_enough "$venv/bin/python" \
   && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "venv: reusing $venv ($("$venv/bin/python" --version))"
  exit 0
fi

if ! python=$(find_python); then
  cat >&2 <<MSG
venv: no Python >= 3.12 found (ansible-core 2.21 needs it on the controller).
Install one, for example:
  apt-get install python3.12 python3.12-venv       (Debian 13 / Ubuntu 24.04)
  pyenv install 3.12 && pyenv local 3.12           (with pyenv)
or point PYTHON at an interpreter: PYTHON=/path/to/python3.12 make ...
MSG
  exit 1
fi

# The interpreter found may be the one of the venv about to be replaced (it is
# first on the Makefile's PATH): build from the base interpreter behind it.
python=$("$python" -c 'import sys; print(getattr(sys, "_base_executable", "") or sys.executable)')
echo "venv: creating $venv with $python ($("$python" --version))"
rm -rf "$venv"
"$python" -m venv "$venv"
mkdir -p .cache
log=.cache/pip-install${venv#.venv}.log
# uv installs the pinned set in seconds from its cache (pip takes ~100 s on
# two cores, most of it compiling every module, which Python does anyway on
# first import for the few it needs). pip, with this machine's pip
# configuration, is the fallback when uv cannot get the packages. uv trusts
# the system's certificate store, as pip does here (a proxy's CA may be in it).
install_with_uv() {
  "$venv/bin/pip" install "uv==$UV_VERSION" &&
    "$venv/bin/uv" pip install --system-certs --python "$venv/bin/python" -r "$requirements"
}
install_with_pip() {
  "$venv/bin/pip" install --upgrade pip && "$venv/bin/pip" install -r "$requirements"
}
if ! install_with_uv >"$log" 2>&1; then
  echo "venv: uv could not install $requirements (log: $log); using pip"
  if ! install_with_pip >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "venv: pip install failed; full log in $log" >&2
    exit 1
  fi
fi
echo "$want" > "$stamp"
echo "venv: ready"
