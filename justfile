# Everyday recipes. `npx just <recipe>` works without a global install (rust-just is a devDependency).

default:
    @npx just --list

# install what is missing and build everything (idempotent)
bootstrap:
    bash scripts/bootstrap.sh

# build every artefact (wasm, native addon, TypeScript, web pages)
build:
    bash scripts/build.sh all

build-wasm:
    bash scripts/build.sh wasm

build-native:
    bash scripts/build.sh native

build-ts:
    bash scripts/build.sh ts

# the whole test suite: cargo, mocha, e2e; ends with one "N passed, N failed" line
test:
    bash scripts/test.sh

# the local mesh demo: a supernode and four edges on loopback (Ctrl-C stops it)
demo *args:
    bash scripts/demo.sh {{args}}

# run an edge: just edge path/to/edge.yaml (make one with: node dist/main.js edge -example > edge.yaml)
edge config="edge.yaml":
    @test -f {{config}} || { echo "no {{config}}: create one with: node dist/main.js edge -example > {{config}}" >&2; exit 1; }
    node dist/main.js edge -config {{config}}

# run the supernode: just super path/to/super.yaml (make one with: node dist/main.js super -example > super.yaml)
super config="super.yaml":
    @test -f {{config}} || { echo "no {{config}}: create one with: node dist/main.js super -example > {{config}}" >&2; exit 1; }
    node dist/main.js super -config {{config}}

# solve a latency matrix: just solve path/to/matrix.txt
solve config="":
    node dist/main.js solve {{ if config == "" { "-example" } else { "-config " + config } }}

# benchmarks, each printing its figures beside a baseline measured in the same run
bench:
    bash scripts/bench.sh

# env BENCH_ROUNDS, BENCH_SECONDS, BENCH_EG_REF=HEAD (measure a clean snapshot of a commit); needs root
# our edge against wireguard-go (current, Debian), boringtun and tinc: one table, ratios, goals (builds them first)
bench-compare:
    bash scripts/bench.sh bench/compare.bench.ts

# serve the route-solver playground on http://127.0.0.1:8080/
playground port="8080":
    node dist/webserve/main.js {{port}}
