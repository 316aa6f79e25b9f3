# Build stage: compile the release binary.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY assets assets
# Cargo reads every target the manifest declares, benches included, before building one binary.
COPY benches benches
# No debug info in the image: the binary is stripped (31 MB instead of 185 MB with line tables).
RUN CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols \
    cargo build --release --locked --bin lookerbot

# Run stage: the binary, CA certificates, a non-root user and a volume for the SQLite file.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 lookerbot \
    && mkdir /data && chown lookerbot /data
COPY --from=build /src/target/release/lookerbot /usr/local/bin/lookerbot
USER lookerbot
ENV PORT=3333 \
    DATABASE_URL=sqlite:///data/lookerbot.db \
    LOG_FORMAT=json
EXPOSE 3333
VOLUME ["/data"]
CMD ["lookerbot", "serve"]
