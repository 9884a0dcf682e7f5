# The canary app's image, as the release builds it: `docker build --file` this file, with the app's folder in
# its repository as the build context. It is the app's own Dockerfile less node-prune, which that file
# downloads from install.goreleaser.com: shut down in 2022 (goreleaser/goreleaser#3146), where `curl -sf`
# fails silently and the next step fails with `node-prune: not found`. curl and bash went with it (only its
# installer used them). node_modules keeps what node-prune deleted by name (about 28 of its 65 MB, nearly all
# type declarations), so every package, KafkaJS first, runs as npm installed it for its users.
# The release warns when the app's Dockerfile is no longer the one this file was derived from:
# derived-from: kafkajs/canary-app app/Dockerfile blob 8ffade754af5c1bfde5847887807741525d33575 (commit 5f5d22f7)
FROM node:12-alpine AS builder
RUN apk update && apk add git
WORKDIR /usr/src/app
COPY package*.json ./
RUN npm ci
COPY tsconfig*.json ./
COPY src src
RUN npm run build
RUN npm prune --production

FROM node:12-alpine
ENV NODE_ENV=production
WORKDIR /usr/src/app
RUN chown node:node . && apk add --no-cache tini
USER node
COPY --from=builder /usr/src/app/node_modules/ node_modules/
COPY config config
COPY --from=builder /usr/src/app/build/ build/
ENV PORT 3000
EXPOSE 3000
HEALTHCHECK --interval=3s --timeout=3s --start-period=30s CMD node build/bin/healthcheck.js
ENTRYPOINT [ "/sbin/tini","--", "node", "build/index.js" ]
