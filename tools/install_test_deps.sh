#!/usr/bin/env bash
# What the tests need besides the Python packages: Debian's docker-compose (tests/test_compose.py checks
# docker-compose.yml with `docker-compose config`) and the servers the backend tests start (oxigraph serve,
# ArcadeDB's Bolt server for the Neo4j projection). Run as root in CI; idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v docker-compose >/dev/null 2>&1; then
    apt-get update
    apt-get install -y docker-compose
fi
.venv/bin/python -m pip install --quiet oxigraph==0.5.13 neo4j==6.4.1 arcadedb-embedded==26.10.2.post1
