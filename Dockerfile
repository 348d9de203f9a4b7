# syntax=docker/dockerfile:1
# Multi-stage build: compile with dev dependencies, run with production dependencies only, as non-root.
# Node 24 (Active LTS); Node 20 left support in April 2026. The image runs with NODE_ENV=production, so it
# refuses to start without ADMIN_API_KEY, MITTO_WEBHOOK_SECRET and MITTO_BASE_URL of your own (README).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY migrations ./migrations
RUN npm run build

FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
# V8's old space capped, so a long send's memory stays flat (scripts/lib/app-runtime.mjs, docs/PERFORMANCE.md
# "Memory of a send"). Override NODE_OPTIONS to size it for your container.
ENV NODE_OPTIONS=--max-old-space-size=512
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"
# Run migrations once per deploy: docker compose run --rm app npx typeorm migration:run -d dist/src/database/data-source.js
CMD ["node", "dist/src/main.js"]
