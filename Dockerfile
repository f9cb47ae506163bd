# The Eye — one image for every role (ROLE=api|worker|all).
#   docker build -t the-eye .
#   docker run -e ROLE=api -e DATABASE_URL=... -e REDIS_URL=... -e JWT_SECRET=... \
#              -e ADMIN_CLIENT_ID=... -e ADMIN_CLIENT_SECRET=... -p 3000:3000 the-eye
# Migrations are applied by the service itself at start (advisory-locked: several replicas may start at once).

# ---- build: dev dependencies, Prisma client, TypeScript → dist/, dashboard → packages/dashboard/dist/ ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Nothing in the stack needs install scripts (and @prisma/engines' would download native engines).
# The lockfile names every workspace: the server's and the dashboard's dependencies are installed,
# not the Node client's (packages/client is not in the image).
COPY package.json package-lock.json ./
COPY packages/dashboard/package.json ./packages/dashboard/
RUN npm ci --ignore-scripts --no-audit --no-fund --include-workspace-root --workspace=@the-eye/dashboard
COPY tsconfig.json tsconfig.build.json nest-cli.json prisma.config.ts ./
COPY prisma ./prisma
COPY src ./src
COPY packages/dashboard ./packages/dashboard
# prebuild generates the Prisma client; build compiles the server, then bundles the dashboard.
RUN npm run build
# Keep only what runs: production dependencies.
RUN npm prune --omit=dev --ignore-scripts --no-audit --no-fund

# ---- runtime: production dependencies, dist/, migrations; non-root ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# src/dashboard/dashboard.controller.ts serves ../../packages/dashboard/dist relative to dist/dashboard/.
COPY --from=build /app/packages/dashboard/dist ./packages/dashboard/dist
# src/prisma/migrator.ts reads ../../prisma/migrations relative to dist/prisma/.
COPY --from=build /app/prisma ./prisma
# The Parquet archive (docs/archive.md): written by the worker's pass, read by the API, so a volume
# both mount. Made here, owned by the service's user (uid 1000 is `node` in this image), so that a
# named volume mounted on it is writable by the service.
RUN mkdir -p /var/lib/the-eye/archive && chown 1000:1000 /var/lib/the-eye/archive
ENV ARCHIVE_DIR=/var/lib/the-eye/archive
USER node
EXPOSE 3000
# /health answers while the HTTP server is up (ROLE=worker serves no HTTP: disable the check there).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node is PID 1 and handles SIGTERM itself (drain, then exit 0). Same node flags as `npm start`
# (issue 5, measured on 2 cores shared with PostgreSQL and Redis): no parallel scavenge or
# compaction, because the main thread waited for GC helper threads that had no free core; one
# concurrent marking thread, which marks the old generation beside the main thread instead of in
# incremental steps on it.
CMD ["node", "--max-old-space-size=256", "--no-parallel-scavenge", "--no-parallel-compaction", \
     "--no-parallel-pointer-update", "--concurrent-marking-max-worker-num=1", "dist/main.js"]
