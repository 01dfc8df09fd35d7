# The aggregator's image: gpuwd serve (scrapes the agents, keeps the
# history in /var/lib/gpuwd, serves the dashboard and the API on :8080).
# A static binary on an empty image, with CA certificates (chat webhooks,
# RunPod's API) and a non-root user (65532, "gpuwd").
#
#   DOCKER_BUILDKIT=1 docker build -f packaging/gpuwd.Dockerfile -t gpuwd \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg REVISION="$(git rev-parse --short HEAD)" .
#   docker run -d -p 8080:8080 -v gpuwd-data:/var/lib/gpuwd gpuwd serve --token-file /run/secrets/agent-token
#
# Any `gpuwd serve` flag can be given after `serve`, or as GPUWD_<FLAG>.
# With the binary `make build` left in bin/ instead of the Go stage:
#   --build-arg GPUWD_FROM=prebuilt
# and without registry access, BASE_IMAGE can be a local Debian image with
# ca-certificates (packaging/image/build-base.sh makes one). Build with
# BuildKit, which skips the stages the image does not use (see
# Dockerfile.agent).

# The Go toolchain for the build stage (pure Go: CGO_ENABLED=0).
ARG GO_IMAGE=golang:1.26-bookworm
# A Debian image the runtime's few files come from (CA certificates).
ARG BASE_IMAGE=golang:1.26-bookworm
# Where the binary comes from: build (the Go stage) or prebuilt (bin/gpuwd).
ARG GPUWD_FROM=build

FROM ${GO_IMAGE} AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
# The module's Go source: not .git, bin/ or data in the context.
COPY agent/ agent/
COPY aggregator/ aggregator/
COPY alerts/ alerts/
COPY cmd/ cmd/
COPY internal/ internal/
COPY slurm/ slurm/
COPY web/ web/
ARG VERSION=dev
ARG REVISION=unknown
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.revision=${REVISION}" \
      -o /out/gpuwd ./cmd/gpuwd

FROM scratch AS prebuilt
COPY bin/gpuwd /out/gpuwd

FROM ${GPUWD_FROM} AS gpuwd

# The runtime's files, laid out under /rootfs with their owners.
FROM ${BASE_IMAGE} AS rootfs
# hadolint ignore=DL3008
RUN if [ ! -f /etc/ssl/certs/ca-certificates.crt ]; then \
      apt-get update && \
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ca-certificates && \
      rm -rf /var/lib/apt/lists/*; \
    fi; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/var/lib/gpuwd /rootfs/tmp /rootfs/usr/local/bin; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\ngpuwd:x:65532:65532:gpuwd:/var/lib/gpuwd:/sbin/nologin\n' >/rootfs/etc/passwd; \
    printf 'root:x:0:\ngpuwd:x:65532:\n' >/rootfs/etc/group; \
    chown 65532:65532 /rootfs/var/lib/gpuwd; \
    chmod 1777 /rootfs/tmp

FROM scratch
COPY --from=rootfs /rootfs/ /
COPY --from=gpuwd /out/gpuwd /usr/local/bin/gpuwd
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="gpuwd" \
      org.opencontainers.image.description="gpu-watchdog's aggregator: scrapes gpuwd-agents, PromQL, alerts to chat, dashboard, RunPod provisioning" \
      org.opencontainers.image.source="https://github.com/gpu-watchdog/gpu-watchdog" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
ENV GPUWD_DATA_DIR=/var/lib/gpuwd
WORKDIR /var/lib/gpuwd
VOLUME ["/var/lib/gpuwd"]
USER 65532:65532
EXPOSE 8080
# Healthy while the query engine answers on the default address (there is
# no shell or curl here: gpuwd asks itself).
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/gpuwd", "query", "--timeout", "5s", "vector(1)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/gpuwd"]
CMD ["serve"]
