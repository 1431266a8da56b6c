# bunshop as one image: the compiled binary on a small glibc base. Every process group in
# fly.toml runs this image; only the command after the entrypoint differs.

# Build: Bun is an npm devDependency, so a Node image is the whole toolchain (the Node CI runs).
FROM node:20.20.2-bookworm-slim AS build
WORKDIR /src
# Dependencies in their own layer; postinstall runs patch-package, which needs patches/.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY modules ./modules
COPY migrations ./migrations
RUN npm run build

# Run: the binary links only glibc (libc, libm, libpthread, libdl); Debian 12 tracks its fixes.
FROM debian:bookworm-slim AS runtime
# TLS to managed Postgres and NATS needs the CA bundle; nothing else is installed.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid, so a volume's ownership survives image rebuilds.
RUN useradd --system --uid 10001 --user-group --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin bunshop \
 && mkdir -p /data \
 && chown bunshop:bunshop /data
COPY --from=build /src/dist/bunshop /app/bunshop
USER bunshop
WORKDIR /data
# Embedded PGlite writes here when no DATABASE_URL is set: mount a volume on /data to keep it.
ENV DATA_DIR=/data
EXPOSE 3000
STOPSIGNAL SIGTERM
ENTRYPOINT ["/app/bunshop"]
CMD ["serve"]
