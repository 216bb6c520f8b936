# Two-stage build. xacthuc is built without development mode (`--no-default-features`): the
# national-system mocks and the demo portal are not in it. The mocks' own binary is built
# separately for the docker-compose demo stack, which runs them as a stand-in.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p xacthuc --no-default-features \
 && cargo build --release -p xacthuc-mocks

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/xacthuc /src/target/release/xacthuc-mocks /usr/local/bin/
# A writable working folder for the mocks' data (keys, CA); xacthuc itself keeps no local state.
RUN mkdir -p /var/lib/xacthuc && chown nobody /var/lib/xacthuc
WORKDIR /var/lib/xacthuc
USER nobody
# 8080: the identity provider; 9464: /metrics (serve's default listens on loopback only: set
# XACTHUC_METRICS_ADDR=0.0.0.0:9464 for a scraper outside the container).
EXPOSE 8080 9464
CMD ["xacthuc", "serve"]
