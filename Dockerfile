# syntax=docker/dockerfile:1
# One image for every role: `serve` (default), `worker`, `sim`, `loadtest`, `monitor`.
#   docker build -t sutazai .
#   docker run --rm -p 127.0.0.1:10010:10010 -e SUTAZAI_UPSTREAMS=ollama=http://host.docker.internal:11434 sutazai
#   docker run --rm sutazai worker          (needs REDIS_URL and DATABASE_URL)
# Configuration and secrets come from the environment at run time; none is baked in.
# Checked by scripts/docker-smoke.sh (build + run each role) where a Docker daemon is available.

ARG NODE_IMAGE=node:20-alpine

# ── build: all dependencies, compile TypeScript ────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are here; we build below.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ── deps: production dependencies only ─────────────────────────────────────────────────────────
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ── runtime ────────────────────────────────────────────────────────────────────────────────────
FROM ${NODE_IMAGE}
WORKDIR /app
# Code stays owned by root (read-only to the process); only the data dir is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY public ./public
COPY deploy/docker/healthcheck.mjs ./deploy/docker/healthcheck.mjs
RUN mkdir -p /data && chown node:node /data
# Inside a container the gateway must listen on all interfaces to be reachable at all; publish the
# port on 127.0.0.1 (compose does) or put it behind a proxy/Service: the gateway has no auth.
ENV SUTAZAI_HOST=0.0.0.0 \
    SUTAZAI_DATA_DIR=/data
USER node
EXPOSE 10010
VOLUME ["/data"]
# serve: GET /ready; sim: GET /api/version; worker/loadtest: the process is alive.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "deploy/docker/healthcheck.mjs"]
# exec form: node is PID 1 and gets SIGTERM itself (graceful drain), no shell in between.
ENTRYPOINT ["node", "dist/cli/main.js"]
CMD ["serve"]
