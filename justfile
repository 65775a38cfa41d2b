# Shortcuts for those who have `just`; every recipe is a `cargo xtask` command,
# which needs nothing but Rust.

# Build the plugins and run the demo on a fresh embedded database.
demo *ARGS:
    cargo xtask demo {{ARGS}}

# Install the wasm target if missing, build the plugins, run every test.
test *ARGS:
    cargo xtask test {{ARGS}}

# Benchmarks whose figures are quoted in the README.
bench:
    cargo xtask bench

# Build the plugins for wasm32-wasip2 only.
plugins:
    cargo xtask plugins

# Regenerate the committed JSON Schemas after changing the contract types.
bless-schemas:
    SHENBAO_BLESS=1 cargo test -p shenbao-contract --test schemas
