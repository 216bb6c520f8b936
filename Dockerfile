# Two-stage build of both binaries (xacthuc and xacthuc-mocks).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --workspace --bins

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/xacthuc /src/target/release/xacthuc-mocks /usr/local/bin/
# A writable working folder for the mocks' data (keys, CA); xacthuc itself keeps no local state.
RUN mkdir -p /var/lib/xacthuc && chown nobody /var/lib/xacthuc
WORKDIR /var/lib/xacthuc
USER nobody
EXPOSE 8080
CMD ["xacthuc", "serve"]
