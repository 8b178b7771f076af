# Tilgang. `make` lists the targets. Needs Go, Node and npm; no Docker, no AWS account.

SHELL         := /bin/bash
.SHELLFLAGS   := -eu -o pipefail -c
.DEFAULT_GOAL := help

GO            ?= go
TEST_TIMEOUT  ?= 10m
# Lambda binaries over this size fail `make build`.
MAX_BINARY_MB ?= 20
# Every folder under functions/ is a Lambda, except the dev server and the invoke, migrate and opentenant commands.
FUNCTIONS     := $(filter-out devserver invoke migrate opentenant,$(notdir $(patsubst %/,%,$(wildcard functions/*/))))
# The workers: the Lambdas behind no API Gateway route. Every other Lambda is an API function
# (routes.APIFunctions, SCIM, the console; a test in shared/routes keeps this list right), and
# has a budget of its own: an API bootstrap over MAX_API_BINARY_MB fails `make build`, except for
# the functions of API_OVER, which it marks OVER (README, "Binary sizes", says why they are).
WORKERS       := anonymiser jobworker
MAX_API_BINARY_MB ?= 8
API_OVER      ?= jobs scim users
# lambda.norpc: aws-lambda-go without net/rpc. nethttpomithttp2: net/http without its bundled
# HTTP/2 (about 0.3 MB of every bootstrap); the AWS APIs and Lambda's runtime API all answer
# HTTP/1.1. go test and the dev server keep HTTP/2.
LAMBDA_TAGS   := lambda.norpc,nethttpomithttp2
# Lambda's arm64 functions run on Graviton2 (Neoverse N1, Armv8.2-A) or later: code for v8.2
# uses its atomic instructions (LSE) directly instead of testing for them at run time, which is
# faster and about 28 KB smaller per binary.
LAMBDA_GOARM64 := v8.2
# Installed by `make tools`; the stamp lives inside node_modules so deleting that reinstalls.
TOOLS_STAMP   := .tools/node_modules/.installed
# The /docs page's assets (swagger-ui-dist, pinned in .docs/package.json), installed by `make docs`.
DOCS_STAMP    := .docs/node_modules/.installed
GO_FILES       = $(shell find . -name '*.go' -not -path './.*' -not -path '*/node_modules/*' -not -path './cdk.out/*')

.PHONY: help tools docs browser run test build lint bench soak clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} \
		/^## ---- / {title = $$0; gsub(/^## -+ | -+$$/, "", title); printf "\n%s\n", title} \
		/^[a-zA-Z0-9_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

## ---- Local development ------------------------------------------------------------------

tools: $(TOOLS_STAMP) ## Install the local DynamoDB (dynoxide) and SQS servers into .tools

$(TOOLS_STAMP): .tools/package.json .tools/package-lock.json
	@echo "tools: npm ci in .tools: dynoxide and local-aws-sqs (about 8 MB, seconds)"
	cd .tools && npm ci --no-audit --no-fund
	@touch $@

docs: $(DOCS_STAMP) ## Install the API reference page's assets (Swagger UI) into .docs

$(DOCS_STAMP): .docs/package.json .docs/package-lock.json
	@echo "docs: npm ci in .docs: swagger-ui-dist for the /docs page (about 13 MB, seconds)"
	cd .docs && npm ci --no-audit --no-fund
	@touch $@

run: tools docs ## Run the dev server on 127.0.0.1:8080 (docs at /docs; DynamoDB :8000, SQS :9324, data in .local/)
	@echo "run: building and starting the dev server (first build: the root module's Go modules, about 155 MB, a minute or two)"
	$(GO) run ./functions/devserver

## ---- Quality ------------------------------------------------------------------------------

test: tools docs browser ## Vet and run every test against the local servers, the CDK tests (with cdk-nag) and synth
	@echo "test: go vet and go test of the root module (first run: its modules download and compile, a few minutes)"
	$(GO) vet ./...
	$(BROWSER_TESTS) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...
	$(MAKE) --no-print-directory infra-test synth

# The console's browser test (TestConsole in shared/devserver) drives Debian's Chromium. `browser`
# installs it where it is missing (as root, or with passwordless sudo); once a browser is there,
# the tests are told to require it, so they cannot pass without running. Without one they skip,
# and this target says so loudly. CHROMIUM=/path/to/chrome picks another browser.
BROWSER_TESTS  = TILGANG_BROWSER_TESTS=$$(if [ -n "$${CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then echo require; else echo skip; fi)

browser: ## Install Debian's chromium for the console's browser tests when it is missing
	@if [ -n "$${CHROMIUM:-}" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else sudo=none; fi; \
	if [ "$$sudo" != none ] && command -v apt-get >/dev/null 2>&1; then \
		echo "browser: installing Debian's chromium for the console's browser tests (about 100 MB, a minute or two)"; \
		$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
			|| echo "browser: apt-get could not install chromium"; \
	fi; \
	if ! command -v chromium >/dev/null 2>&1; then \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!!! NO CHROMIUM, AND IT COULD NOT BE INSTALLED (needs apt-get as root or passwordless sudo):"; \
		echo "!!! THE CONSOLE'S BROWSER TESTS WILL BE SKIPPED. Install chromium or set CHROMIUM=/path."; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

lint: ## Check formatting (gofmt) and vet
	@unformatted="$$(gofmt -l $(GO_FILES))"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

bench: tools ## Run the benchmarks; each prints a RATIO against a baseline measured in the same run
	@mkdir -p build
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./... | tee build/bench.txt
	@echo; echo "Ratios (last measurement of each benchmark):"
	@grep -o 'RATIO .*' build/bench.txt | awk '{k=substr($$0,1,46); last[k]=$$0; if (!(k in seen)) {seen[k]=1; order[++n]=k}} END {for (i=1;i<=n;i++) print "  " last[order[i]]}'
	@echo; echo "DynamoDB calls per request and the decision path (last measurement of each):"
	@grep -o -E '(CALLS|DECIDE) .*' build/bench.txt | awk '{k=substr($$0,1,40); last[k]=$$0; if (!(k in seen)) {seen[k]=1; order[++n]=k}} END {for (i=1;i<=n;i++) print "  " last[order[i]]}'

# SOAK_SECONDS bounds the mixed workload of `make soak`.
SOAK_SECONDS  ?= 60

soak: tools ## Load and faults on loopback: 32 clients, a 5,000-item job across a DynamoDB crash, every message twice
	@# pipefail (SHELLFLAGS) keeps the test's exit status: the target fails when a check failed.
	SOAK_SECONDS=$(SOAK_SECONDS) $(GO) test -tags soak -run '^TestSoak$$' -count=1 -v -timeout 15m ./shared/soak/ \
		| grep -v -E '^(=== RUN|--- (PASS|FAIL)|PASS$$|FAIL$$|ok |FAIL\s)'

## ---- Build --------------------------------------------------------------------------------

# The console function embeds the reference page: build copies its assets from the pinned
# swagger-ui-dist (make docs, the files of apidocs.Assets) and the OpenAPI document into this
# git-ignored folder and builds the function with -tags docsassets.
CONSOLE_ASSETS := shared/consolefn/swagger

build: docs ## Build every Lambda to build/<name>/bootstrap (linux/arm64) and check their sizes
	@if [ -z "$(FUNCTIONS)" ]; then echo "no functions to build"; exit 0; fi
	@mkdir -p $(CONSOLE_ASSETS)
	@for a in swagger-ui.css swagger-ui-bundle.js favicon-32x32.png; do \
		cp .docs/node_modules/swagger-ui-dist/$$a $(CONSOLE_ASSETS)/$$a; \
	done
	@cp shared/openapi/openapi.yaml $(CONSOLE_ASSETS)/openapi.yaml
	@echo "build: cross-compiling $(words $(FUNCTIONS)) functions for linux/arm64 (the first one takes a minute, the rest seconds)"
	@for fn in $(FUNCTIONS); do \
		echo "build $$fn"; \
		tags=$(LAMBDA_TAGS); if [ "$$fn" = console ]; then tags=$(LAMBDA_TAGS),docsassets; fi; \
		GOOS=linux GOARCH=arm64 GOARM64=$(LAMBDA_GOARM64) CGO_ENABLED=0 $(GO) build -tags $$tags -trimpath -ldflags='-s -w' \
			-o build/$$fn/bootstrap ./functions/$$fn; \
	done
	@echo "bootstrap sizes (MB = 1,048,576 bytes; API functions: $(MAX_API_BINARY_MB) MB each, workers: $(MAX_BINARY_MB) MB):"
	@too_big=0; limit=$$(( $(MAX_BINARY_MB) * 1024 * 1024 )); api_limit=$$(( $(MAX_API_BINARY_MB) * 1024 * 1024 )); \
	for fn in $(FUNCTIONS); do \
		size=$$(stat -c %s build/$$fn/bootstrap); kind=API; mark=""; \
		case " $(WORKERS) " in *" $$fn "*) kind=worker;; esac; \
		if [ "$$size" -gt "$$limit" ]; then mark="OVER $(MAX_BINARY_MB) MB"; too_big=1; \
		elif [ "$$kind" = API ] && [ "$$size" -gt "$$api_limit" ]; then \
			case " $(API_OVER) " in \
				*" $$fn "*) mark="OVER $(MAX_API_BINARY_MB) MB (known: API_OVER)";; \
				*) mark="OVER $(MAX_API_BINARY_MB) MB"; too_big=1;; \
			esac; \
		fi; \
		awk -v fn="$$fn" -v s="$$size" -v k="$$kind" -v m="$$mark" 'BEGIN {printf "  %-12s %6.2f MB  %-6s %s\n", fn, s / 1048576, k, m}'; \
	done; \
	for fn in $(API_OVER); do \
		size=$$(stat -c %s build/$$fn/bootstrap 2>/dev/null || echo 0); \
		if [ "$$size" -le "$$api_limit" ]; then echo "  $$fn is within $(MAX_API_BINARY_MB) MB now: take it out of API_OVER"; fi; \
	done; \
	if [ $$too_big = 1 ]; then echo "build: a bootstrap is over its limit"; fi; \
	exit $$too_big

## ---- Infrastructure ---------------------------------------------------------------------

# The CDK CLI is pinned in .cdk/ (a dot folder, so Go ignores its node_modules). These variables
# keep synth offline and quiet: no telemetry, no version check, no Node end-of-life banner.
CDK_STAMP     := .cdk/node_modules/.installed
CDK_ENV       := CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1 JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
CDK           := $(CDK_ENV) .cdk/node_modules/.bin/cdk
# `make synth STUB_ASSETS=1` synthesizes with stub bootstrap files instead of building them.
STUB_ASSETS   ?=
# Context for deploy, e.g. make deploy CDK_ARGS="-c webOrigin=https://app.example.com -c alarmEmail=ops@example.com"
CDK_ARGS      ?=

.PHONY: cdk-tools infra-deps infra-test synth deploy cdk-bootstrap

cdk-tools: $(CDK_STAMP) ## Install the pinned AWS CDK CLI into .cdk

$(CDK_STAMP): .cdk/package.json .cdk/package-lock.json
	@echo "cdk-tools: npm ci in .cdk: the pinned AWS CDK CLI (seconds)"
	cd .cdk && npm ci --no-audit --no-fund
	@touch $@

# The CDK modules of infra/: where the first run spends most of its time.
CDK_VERSION   = $(shell awk '$$1 == "github.com/aws/aws-cdk-go/awscdk/v2" {print $$2}' infra/go.mod)
CDK_MODULE    = $(shell $(GO) env GOMODCACHE)/github.com/aws/aws-cdk-go/awscdk/v2@$(CDK_VERSION)

infra-deps: ## Download the CDK modules of infra/ (about 430 MB the first time), saying so
	@if [ -d "$(CDK_MODULE)" ]; then 		echo "infra: CDK for Go $(CDK_VERSION) modules already downloaded"; 	else 		echo "infra: downloading the AWS CDK for Go $(CDK_VERSION) and cdk-nag modules: about 430 MB, several minutes on a first run"; 		start=$$(date +%s); (cd infra && $(GO) mod download); 		echo "infra: modules downloaded in $$(( $$(date +%s) - start )) s"; 	fi

infra-test: infra-deps ## Vet and run the CDK assertion tests and cdk-nag (infra/ is its own Go module)
	@echo "infra: go vet and go test of the CDK app (the first compile takes minutes and ~1 GB of memory; later runs seconds)"
	cd infra && $(CDK_ENV) $(GO) vet ./...
	cd infra && $(CDK_ENV) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./...

synth: cdk-tools infra-deps ## Write cdk.out/TilgangStack.template.json, offline (builds the Lambdas if missing)
	@echo "synth: building the CDK app and synthesizing TilgangStack offline"
ifeq ($(STUB_ASSETS),)
	@for fn in $(FUNCTIONS); do \
		if [ ! -f build/$$fn/bootstrap ]; then $(MAKE) --no-print-directory build; break; fi; \
	done
	$(CDK) synth --quiet
else
	$(CDK) synth --quiet -c stubAssets=true
endif
	@echo "wrote cdk.out/TilgangStack.template.json"

deploy: build cdk-tools ## Deploy to AWS (needs credentials and -c webOrigin=https://…: see infra/README.md)
	$(CDK) deploy TilgangStack -c deploy=true $(CDK_ARGS) --require-approval broadening --outputs-file cdk.out/outputs.json

cdk-bootstrap: cdk-tools ## Prepare an AWS account and region for deploy, once (needs credentials)
	$(CDK) bootstrap

.PHONY: invoke

invoke: tools ## Run a function's handler on a sample: make invoke FN=users EVENT=events/users-list.json
	@if [ -z "$(EVENT)" ]; then echo "usage: make invoke [FN=<function>] EVENT=events/<file>.json"; exit 2; fi
	$(GO) run ./functions/invoke $(if $(FN),-fn "$(FN)") "$(EVENT)"

## ---- Housekeeping -------------------------------------------------------------------------

clean: ## Remove build output (keeps .local/, the dev server's data; delete it to start afresh)
	rm -rf build cdk.out
