#!/usr/bin/env bash
# Install Debian's headless browser and its WebDriver for the explorer's browser test and bench, when missing.
# Idempotent: does nothing when /usr/bin/chromium and /usr/bin/chromedriver are already there. Never fails the
# caller: without root or without the package mirror the browser test skips with a reason instead.
set -u
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_chromium: apt-get absent, chromium non installé (le test navigateur sera ignoré)" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install_chromium: ni root ni sudo, chromium non installé (le test navigateur sera ignoré)" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null 2>&1 || true
if ! $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null 2>&1; then
    echo "install_chromium: échec de apt-get install chromium chromium-driver (le test navigateur sera ignoré)" >&2
fi
exit 0
