# The leeloo-sync worker: `docker compose up` (see docker-compose.yml and README "Running the worker").
FROM node:20-bookworm-slim

WORKDIR /app

# better-sqlite3 normally installs a prebuilt binary; the toolchain is the fallback when none
# matches the platform.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*

# Dependencies first, so code changes do not reinstall them. tsx (a runtime dependency) runs
# the TypeScript sources directly: there is no build step.
COPY package.json package-lock.json ./
COPY stubs ./stubs
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY jobs ./jobs
COPY migrations ./migrations

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
