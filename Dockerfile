# One image for every Capitalis service of docker-compose.yml: the CLI (`capitalis serve`, `explore`, the loader's
# `ingest`, `index`, `neo4j sync`) and the `oxigraph` server binary (the `oxigraph` wheel, same version as pyoxigraph).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    CAPITALIS_HOME=/var/lib/capitalis

WORKDIR /app
# torch first, from the CPU wheel index: the default wheel pulls the CUDA runtime (gigabytes)
RUN pip install torch==2.13.0 --extra-index-url https://download.pytorch.org/whl/cpu

COPY pyproject.toml README.md LICENSE ./
COPY ontology ontology
COPY kg kg
COPY ingest ingest
COPY territoires territoires
COPY search search
COPY parrainage parrainage
COPY fiches fiches
COPY contributions contributions
COPY projection projection
COPY api api
COPY explorer explorer
COPY capitalis capitalis
COPY data data
RUN pip install . oxigraph==0.5.13 neo4j==6.4.1 \
    && useradd --system --create-home --home-dir /home/capitalis capitalis \
    && mkdir -p "$CAPITALIS_HOME" /data \
    && chown capitalis "$CAPITALIS_HOME" /data

USER capitalis
EXPOSE 8000 8501 7878
CMD ["capitalis", "--help"]
