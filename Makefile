# The MCP registry worker. `make help` lists the targets.
GO      ?= go
PKGS    ?= ./...
# golangci-lint, pinned; built through the Go module proxy on first use.
GOLANGCI ?= $(GO) run github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0

.PHONY: help build run test test-node vet lint fuzz bench soak soak-outages clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'

build: ## build the production binary bin/worker (no embedded servers in it)
	$(GO) build -trimpath -o bin/worker ./cmd/worker

run: build ## run the worker on embedded NATS, Redis-protocol and MongoDB-protocol servers with demo data
	$(GO) build -o bin/devstack ./cmd/devstack
	bin/devstack --worker bin/worker

test: ## run every test with the race detector against real servers (Redis on REDIS_URL, embedded NATS and FerretDB), then the registry and flow tests again on a 3-master Redis Cluster
	$(GO) test -race -count=1 -timeout 20m $(PKGS)
	MCP_TEST_REDIS=cluster $(GO) test -race -count=1 -timeout 10m ./internal/registry/ ./internal/handlers/ ./reader/
	$(MAKE) test-node

test-node: ## the Node.js reader (clients/node): its tests and the conformance fixtures, on Redis and on a 3-master Redis Cluster
	cd clients/node && npm ci --no-audit --no-fund && npm test && npm run test:cluster

soak-outages: ## the outage tests with Redis and MongoDB each down 5 minutes (DESIGN hard case 28) instead of make test's 15 s
	MCP_TEST_OUTAGE=5m $(GO) test -race -count=1 -timeout 20m -run '^TestIntegration(Redis|Mongo)Outage$$' -v ./cmd/worker/

vet: ## go vet, gofmt and go.mod tidiness
	$(GO) vet $(PKGS)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change: $$out"; exit 1; fi
	$(GO) mod tidy -diff

lint: vet ## vet plus golangci-lint (govet, staticcheck, errcheck, errorlint, revive, gofumpt, goimports; .golangci.yml)
	$(GOLANGCI) run $(PKGS)

fuzz: ## fuzz the event decoder, then whole messages through JetStream and the consume loop, 60 s each
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 60s ./internal/events/
	$(GO) test -run '^$$' -fuzz '^FuzzWholeMessage$$' -fuzztime 60s ./internal/events/

bench: ## measure login throughput, fan-out cost, memory and reads (Go and Node readers) against the original loader; prints tables
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./internal/bench/
	cd clients/node && npm ci --no-audit --no-fund && npm run bench

soak: build ## 10 min of mixed load on 2 workers with a fault every 30 s, then every registry compared with a model (SOAK_FLAGS="-duration 3m -seed 2"; see README); then soak-outages
	$(GO) run ./cmd/soak -worker bin/worker $(SOAK_FLAGS)
	$(MAKE) soak-outages

clean: ## remove build output and dev data
	rm -rf bin .devdata
