# Tessera daemon image. Node 26 runs the TypeScript sources directly (no build step).
FROM node:26-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# The `node` devDependency only pins Node for development; the base image already is Node 26.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY config ./config
COPY src ./src
COPY workers ./workers
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# 6379: RESP clients; 9121: /metrics, /health, /live, /ready (HTTP, no auth: keep it private).
EXPOSE 6379 9121
# PING over RESP; healthy when the daemon answers +PONG.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "const s=require('net').connect(6379,'127.0.0.1',()=>s.write('PING\r\n'));s.on('data',d=>process.exit(String(d).startsWith('+PONG')?0:1));s.on('error',()=>process.exit(1))"
# In a container the port is published by Docker; set TESSERA_REQUIREPASS and keep protected
# mode on, or accept connections from outside the container as here.
CMD ["node", "src/main.ts", "--bind", "0.0.0.0", "--protected-mode", "no", "--dir", "/data", "--metrics-bind", "0.0.0.0"]
