# One image for every alertbus service: compiled JavaScript run by plain node as a non-root user, with
# production dependencies only. Its entry point is the CLI; docker-compose.yml and deploy/ pass
# `serve <service>` (`alertbus serve`, which runs that service in the container's one process).
# test/e2e/dist-build.e2e.test.ts runs these same steps (build, runtime tree, npm ci --omit=dev, the
# compose commands under this ENV) without a container engine.

# Build: all dependencies, tsc of every workspace's src/ into its dist/, then the tree the image ships.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && node --import tsx scripts/runtime-tree.ts /app

# Run: the built tree and its production dependencies; workspace packages resolve to their dist/
# under Node's `production` condition (package.json "exports"), so nothing needs TypeScript at run time.
FROM node:20-bookworm-slim
ENV NODE_ENV=production NODE_OPTIONS=--conditions=production
WORKDIR /app
COPY --from=build /app ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
USER node
ENTRYPOINT ["node", "cli/bin/alertbus.js"]
CMD ["serve", "ingest"]
