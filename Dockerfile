# syntax=docker/dockerfile:1
# BotCriptoFy: one image for every process — the command chooses (start, worker, migrate, …).
#
#   docker build -t botcriptofy .
#   docker run --rm -p 3000:3000 -v botcriptofy-data:/var/lib/botcriptofy botcriptofy        # start (embedded demo)
#   docker run --rm --env-file .env botcriptofy worker                                      # a worker
#   docker run --rm --env-file .env botcriptofy migrate                                     # migrations only
#
# The runtime is the image's own Node (the official node image), so bin/botcriptofy.js never
# hands over to the `node` npm package (it does so only below Node 22.18): the version below is
# the one package-lock.json pins for that package (a test keeps the two equal).
ARG NODE_IMAGE=node:22.23.3-bookworm-slim

# ---- dependencies: production only, from the lock file
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts run (ccxt, msgpackr-extract, bufferutil and the `node` package's own); the
# native modules used here all ship prebuilt Linux x64/arm64 binaries, so no compiler is needed.
RUN npm ci --omit=dev --no-audit --no-fund \
    # The Node binary the `node` npm package brings (about 185 MB) is only the fallback for an
    # older system Node; the image's Node is the runtime, so it goes.
    && rm -rf node_modules/node node_modules/.bin/node \
    && npm cache clean --force

# ---- the web dashboard (web/README.md): built by Vite, a dev dependency, from the same lock
# file; only its output (web/dist) goes into the image. No install scripts: nothing here runs
# the product, and the image's Node (>= 22.18) runs web/build.ts itself.
FROM ${NODE_IMAGE} AS web
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY web ./web
RUN node web/build.ts

# ---- runtime
FROM ${NODE_IMAGE} AS runtime
# tini: PID 1 that forwards SIGTERM/SIGINT to Node and reaps children (the demo seed child).
# fonts-dejavu-core: the charts' labels. ca-certificates: TLS to Stripe, Telegram, exchanges.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini fonts-dejavu-core ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    # Refuse an image whose Node would make bin/botcriptofy.js re-exec (needs >= 22.18).
    && node -e "const [a,b]=process.versions.node.split('.').map(Number); if (!(a>22||(a===22&&b>=18))) { console.error('Node '+process.version+' is older than 22.18'); process.exit(1) }" \
    && mkdir -p /var/lib/botcriptofy \
    && chown node:node /var/lib/botcriptofy

WORKDIR /app
# GLIBC_TUNABLES: glibc's malloc settings (huge pages for large blocks, one arena), the string
# bin/botcriptofy.js's first line sets for `npx botcriptofy` (the entry point below runs
# `node bin/botcriptofy.js`, which reads no first line); bin/malloc-tunables.js says why and
# test/cli/launcher.test.ts checks they agree. `start` on the demo company, resident after 10
# minutes side by side (2026-12-03): 314 MB with them, 295 MB with huge pages alone, 326 MB with
# neither (identical processes differ by up to 30 MB). glibc reads it at process start only; the
# kernel's THP setting `never` turns hugetlb into nothing.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    LOG_FORMAT=json \
    DATA_DIR=/var/lib/botcriptofy \
    BOTCRIPTOFY_NO_ENV_FILE=1 \
    GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.arena_max=1

COPY --from=deps --chown=root:root /app/node_modules ./node_modules
# Sources are read-only for the process (owned by root); only DATA_DIR is writable.
COPY --chown=root:root . .
COPY --from=web --chown=root:root /app/web/dist ./web/dist
COPY --chown=root:root deploy/docker/healthcheck.mjs /usr/local/lib/botcriptofy/healthcheck.mjs

USER node
VOLUME ["/var/lib/botcriptofy"]
EXPOSE 3000 9464

# /health of `start` on PORT, or of a worker on METRICS_PORT (a worker without METRICS_PORT
# opens no port and is reported healthy while its process runs).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["node", "/usr/local/lib/botcriptofy/healthcheck.mjs"]

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/bin/botcriptofy.js"]
CMD ["start"]
