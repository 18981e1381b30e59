# One image for every alertbus service; docker-compose.yml picks the entry point per service.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY schemas/package.json schemas/
COPY packages/common/package.json packages/common/
COPY packages/kafka/package.json packages/kafka/
COPY packages/sink-runtime/package.json packages/sink-runtime/
COPY packages/stand-ins/package.json packages/stand-ins/
COPY services/ingest/package.json services/ingest/
COPY services/router/package.json services/router/
COPY services/slack-sink/package.json services/slack-sink/
COPY services/opsgenie-sink/package.json services/opsgenie-sink/
COPY services/history/package.json services/history/
RUN npm ci --no-audit --no-fund
COPY . .
ENV NODE_ENV=production
USER node
CMD ["node", "--import", "tsx", "services/ingest/src/main.ts"]
