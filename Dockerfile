# syntax=docker/dockerfile:1
# trolyao: one static binary on a distroless base, running as a non-root user.
#   docker build -t trolyao .
#   docker run --rm -p 8080:8080 -e TROLYAO_DATA=/data -v /path/to/catalog:/data:ro trolyao

# golang:1.26 tracks the newest 1.26.x, which must be >= the go line in go.mod
# (the image sets GOTOOLCHAIN=local, so it will not download another toolchain).
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/trolyao ./cmd/trolyao \
 && mkdir -p /out/state

# distroless/static: CA certificates (LLM endpoints, Zalo API) and tzdata, no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/trolyao /trolyao
# Writable home for the embedded store, used when TROLYAO_DATABASE_URL is empty.
COPY --from=build --chown=65532:65532 /out/state /var/lib/trolyao
ENV TROLYAO_ADDR=:8080 \
    TROLYAO_DIR=/var/lib/trolyao \
    TROLYAO_DATA=/data
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 CMD ["/trolyao", "healthcheck"]
ENTRYPOINT ["/trolyao"]
CMD ["serve"]
