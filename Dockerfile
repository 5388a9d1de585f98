# Spool's container image: one static binary, run as a non-root user, data
# in a volume. Build it with `make docker` (which passes the version in), or
# `docker build .`; deploy/compose.yaml runs a 3-node cluster from it.

# The build stage uses the Makefile's own target, so the image holds the
# same binary `make static` builds.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=v0.0.0-dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN make static VERSION="$VERSION" COMMIT="$COMMIT" DATE="$DATE" \
    && ./bin/spool version \
    && mkdir -p /out/var/lib/spool

# No shell, no package manager: the binary, CA certificates and the
# non-root user distroless provides (uid 65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /src/bin/spool /usr/local/bin/spool
# Owned by the runtime user, so a fresh named volume is writable.
COPY --from=build --chown=65532:65532 /out/var/lib/spool /var/lib/spool
USER 65532:65532
VOLUME ["/var/lib/spool"]
# 9092: clients (PLAINTEXT); 9093: the controller listener; 9644: /metrics,
# /healthz and /readyz.
EXPOSE 9092 9093 9644
ENTRYPOINT ["/usr/local/bin/spool"]
# A single combined node reachable from outside the container. Clients on
# the host use localhost:9092 (publish it with -p 9092:9092); override the
# command for anything else (see deploy/compose.yaml).
CMD ["server", \
     "--listeners", "PLAINTEXT://0.0.0.0:9092,CONTROLLER://0.0.0.0:9093", \
     "--advertised-listeners", "PLAINTEXT://localhost:9092", \
     "--controller-quorum-voters", "1@localhost:9093", \
     "--log-dirs", "/var/lib/spool", \
     "--http-listener", "0.0.0.0:9644"]
