#!/usr/bin/env bash
# Creates .venv if missing and installs the given requirement files (default: the app's).
#
#   bash scripts/setup.sh && .venv/bin/python app.py                     # the app
#   bash scripts/setup.sh requirements.txt requirements-dev.txt          # + training and tests
#
# Idempotent: pip runs only when the requirement files changed since they were last installed into
# this .venv (delete .venv/.requirements.sha256 to force it). PYTHON picks the interpreter for a new
# .venv (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$#" -eq 0 ]; then set -- requirements.txt; fi

# System libraries from packages.txt (the same list a Hugging Face Space installs): OpenCV needs libGL.
missing=$(while read -r pkg; do dpkg -s "$pkg" >/dev/null 2>&1 || echo "$pkg"; done < packages.txt)
if [ -n "$missing" ] && command -v apt-get >/dev/null; then
    echo "setup: installing" $missing
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
    $sudo apt-get update -qq
    # shellcheck disable=SC2086  # one word per package
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $("${PYTHON:-python3}" --version)"
    "${PYTHON:-python3}" -m venv .venv
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
fi

stamp=.venv/.requirements.sha256
wanted=$({ printf '%s\n' "$@"; cat requirements.txt "$@"; } | sha256sum | cut -d' ' -f1)  # dev includes the app's
if [ -f "$stamp" ] && grep -qx "$wanted" "$stamp"; then
    exit 0
fi
echo "setup: installing $* into .venv (the first time takes a few minutes)"
args=()
for file in "$@"; do args+=(-r "$file"); done
.venv/bin/python -m pip install --quiet --disable-pip-version-check "${args[@]}"
# One cv2 (see requirements.txt): a .venv made before may also hold another OpenCV wheel. Removing it deletes the
# cv2/ files the two share, so the kept one is reinstalled over them.
others=$(.venv/bin/python -m pip list --format=freeze --disable-pip-version-check \
    | grep -ioE '^opencv-(python|python-headless|contrib-python-headless)==' | tr -d '=' || true)
if [ -n "$others" ]; then
    echo "setup: removing" $others "(requirements.txt keeps opencv-contrib-python only)"
    # shellcheck disable=SC2086  # one word per package
    .venv/bin/python -m pip uninstall --quiet --disable-pip-version-check -y $others
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
        "$(grep -oE '^opencv-contrib-python==[^ ]+' requirements.txt)"
fi
echo "$wanted" >> "$stamp"
