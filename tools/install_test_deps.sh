#!/usr/bin/env bash
# What the tests need besides the Python packages: Debian's docker-compose (tests/test_compose.py checks
# docker-compose.yml with `docker-compose config`); the servers the backend tests start (oxigraph serve,
# ArcadeDB's Bolt server) come with the dev extras of pyproject.toml. Run as root in CI; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker-compose >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
