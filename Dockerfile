# Kyra in a container: a slim, non-root image that runs `kyra serve` (embedded) or the
# scale-out processes (`kyra worker`, `kyra scheduler`). See compose.yaml and
# docs/runtime.md ("Containers").
#
#   docker build -t kyra .            # or: podman build -t kyra .
#   docker run -p 8765:8765 -v kyra-data:/data kyra
#
# BASE must be a Debian-based Python 3.11+ image (`python3 -m venv` works in it); it is an
# argument so that a machine without Docker Hub can build on a local base.
ARG BASE=docker.io/library/python:3.11-slim-bookworm

FROM ${BASE} AS build
# Extras baked in: the API and dashboard, PostgreSQL, Celery (Redis/RabbitMQ).
ARG EXTRAS=api,postgres,celery
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml README.md /src/
COPY src /src/src
# An optional build secret `pip_cert` (a CA bundle) is for networks whose registry sits
# behind an intercepting proxy: `--secret id=pip_cert,src=/etc/ssl/certs/ca-certificates.crt`.
RUN --mount=type=secret,id=pip_cert \
    if [ -f /run/secrets/pip_cert ]; then export PIP_CERT=/run/secrets/pip_cert; fi \
 && python3 -m venv /opt/kyra \
 && /opt/kyra/bin/pip install --quiet "/src[${EXTRAS}]" \
 && /opt/kyra/bin/python -m compileall -q /opt/kyra/lib

FROM ${BASE}
# One unprivileged user; /data (a volume) holds kyra.toml, the secret key and the SQLite
# database of the embedded runtime.
RUN useradd --system --uid 10001 --gid 0 --home-dir /data --shell /usr/sbin/nologin kyra \
 && mkdir -p /data && chown 10001:0 /data && chmod 0770 /data
COPY --from=build /opt/kyra /opt/kyra
COPY deploy/entrypoint.sh /usr/local/bin/kyra-entrypoint
ENV PATH=/opt/kyra/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    KYRA_LOG_FORMAT=json \
    KYRA_ACCESS_LOG=1
USER 10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8765
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python3", "-c", "import sys, urllib.request; urllib.request.urlopen('http://127.0.0.1:8765/healthz', timeout=4); sys.exit(0)"]
ENTRYPOINT ["kyra-entrypoint"]
CMD ["serve", "--host", "0.0.0.0"]
