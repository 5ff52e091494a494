# The leeloo-sync worker: `docker compose up` (see docker-compose.yml and README "Running the worker").

# Build stage: `npm ci` installs every dependency and, through npm's `prepare`, compiles the
# TypeScript sources to dist/; the dev dependencies are then dropped.
FROM node:20-bookworm-slim AS build

WORKDIR /app

# better-sqlite3 normally installs a prebuilt binary; the toolchain is the fallback when none
# matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*

# stubs/ holds a `file:` dependency, so it must be in place before npm ci; the sources too,
# because `prepare` builds them.
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY stubs ./stubs
COPY src ./src
COPY jobs ./jobs
RUN npm ci --no-audit --no-fund \
  && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# Runtime stage: compiled JavaScript and production dependencies only; no toolchain, no tsx.
FROM node:20-bookworm-slim

WORKDIR /app

COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
# node_modules links the msgpackr-extract stand-in from stubs/.
COPY --from=build /app/stubs ./stubs
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY migrations ./migrations
COPY migrations-pg ./migrations-pg

# The SQLite mirror lives on a volume at /data, owned by the unprivileged user that runs the worker.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
ENV NODE_ENV=production \
    DATABASE_URL=/data/leeloo.db

USER node
EXPOSE 3000
# Exec form: the worker is PID 1's child-free main process and receives SIGTERM itself, so
# `docker stop` lets the running sync checkpoint (WORKER_SHUTDOWN_TIMEOUT_MS).
CMD ["node", "bin/leeloo-sync.js", "worker"]
