# The fleet simulator as an image: Node 20 and the built package. Build the package first (`npm run build`
# writes dist/, which is what runs), then `docker build -t sparrow-sim:0.1.0 .`; deploy/sim-job.yaml runs it
# as a Kubernetes Indexed Job, one shard of the fleet per pod.
FROM node:20-bookworm-slim
WORKDIR /opt/sparrow
COPY package.json package-lock.json ./
# runtime dependencies only (serialport, lmdb, ws); their prebuilt binaries need no install scripts
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY dist/ dist/
USER node
ENTRYPOINT ["node", "/opt/sparrow/dist/node/sparrow.js"]
CMD ["sim", "--help"]
