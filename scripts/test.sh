#!/usr/bin/env bash
# The whole test suite, from a fresh clone: bash scripts/test.sh [extra pytest arguments]
#
# Installs the dev requirements into .venv, and Debian's chromium for the browser test if
# /usr/bin/chromium is missing; builds web/ with npm (installing its packages when its lock file changed);
# then lints with ruff (any finding fails the run), runs pytest and exits with its code ("no tests"
# counts as failure).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh requirements.txt requirements-dev.txt

if [ ! -x /usr/bin/chromium ]; then
    echo "test: installing Debian's chromium for tests/test_browser.py"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if command -v npm >/dev/null; then  # web/: install its pinned packages when they changed, then build (about a second)
    if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
        (cd web && npm ci --no-audit --no-fund)
    fi
    echo "test: building web/ for tests/test_web.py"
    (cd web && npm run build >/dev/null)
else
    echo "test: npm not found, web/ not built (tests/test_web.py fails in CI, skips elsewhere)" >&2
fi

echo "test: ruff check ."
.venv/bin/ruff check .

code=0
.venv/bin/python -m pytest -q tests "$@" || code=$?
if [ "$code" -eq 5 ]; then
    echo "test: pytest collected no tests: counted as a failure" >&2
    exit 1
fi
exit "$code"
