# syntax=docker/dockerfile:1
# hybrid-secrets webhook image.
#
#   docker build -t hybrid-secrets .
#
# Build stages use the official Debian 12 Node.js 24 image; the runtime is distroless Node.js 24
# on the same Debian 12: no shell, no package manager, no npm, nonroot user. Only the compiled
# dist/, the production node_modules and package.json (it declares ESM) are copied in.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-bookworm-slim AS production-deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: no production dependency needs one, and none gets to run. Type
# declarations, source maps, TypeScript sources and docs are not run: dropping them halves
# node_modules (about 109 MB to 58 MB, mostly @kubernetes/client-node).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \
      -o -name '*.ts' -o -name '*.md' \) -delete

FROM gcr.io/distroless/nodejs24-debian12:nonroot
LABEL org.opencontainers.image.title="hybrid-secrets" \
      org.opencontainers.image.description="Mutating admission webhook wiring External Secrets Operator and the Secrets Store CSI driver from pod annotations" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
COPY --from=production-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# distroless' nonroot user, numerically, so runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["/nodejs/bin/node", "/app/dist/cli.js", "serve"]
