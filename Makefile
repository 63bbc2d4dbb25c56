# The product's commands. The two a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
RASA_PY := .venv/rasa/bin/python
SVC_PY := .venv/services/bin/python
export PYTHONPATH := $(CURDIR)
export OMP_WAIT_POLICY := PASSIVE
export TOKENIZERS_PARALLELISM := false
# Offline unless a deployer with internet opts in (HF_HUB_OFFLINE=0 make run) to use a hub model.
HF_HUB_OFFLINE ?= 1
export HF_HUB_OFFLINE
export TRANSFORMERS_OFFLINE := $(HF_HUB_OFFLINE)
export RASA_TELEMETRY_ENABLED := false

.PHONY: help run test envs train index lint bench-nlu bench-nlu-baseline bench-retrieval bench-inbox

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' Makefile | sed 's/:.*## /\t/' | column -t -s "$$(printf '\t')"

run: envs train index ## build what is missing, then start Rasa, the action server and the services app
	$(SVC_PY) -m scripts.run_all

test: ## build what is missing, then run the whole test suite
	bash scripts/run_tests.sh

envs: ## create .venv/rasa (Python 3.10) and .venv/services (Python 3.11) from requirements/*.lock
	bash scripts/ensure_envs.sh

train: envs ## train the Rasa model unless one with the same data fingerprint is cached
	$(RASA_PY) -m scripts.train_model

index: envs ## (re)build the knowledge-base search index from kb_articles/ (only changed articles are embedded)
	$(SVC_PY) -m retrieval ingest

lint: envs ## ruff over the whole tree
	$(SVC_PY) -m ruff check .

bench-nlu: envs ## NLU benchmark of config.yml: TRAIN=<csv> TEST=<csv> OUT=<json> [OOS_LABEL=<label>]
	$(RASA_PY) -m bench.nlu --train "$(TRAIN)" --test "$(TEST)" --out "$(OUT)" $(if $(OOS_LABEL),--oos-label "$(OOS_LABEL)")

bench-nlu-baseline: envs ## the same benchmark with Rasa's default pipeline for a new project
	$(RASA_PY) -m bench.nlu --baseline --train "$(TRAIN)" --test "$(TEST)" --out "$(OUT)" $(if $(OOS_LABEL),--oos-label "$(OOS_LABEL)")

bench-retrieval: envs ## retrieval benchmark: CORPUS=<jsonl> QUERIES=<jsonl> OUT=<json>
	$(SVC_PY) -m bench.retrieval --corpus "$(CORPUS)" --queries "$(QUERIES)" --out "$(OUT)"

bench-inbox: envs ## NLU inbox grouping: groups a lead labels for 200 messages, purity [OUT=<json>]
	$(SVC_PY) -m bench.workspace.inbox_grouping $(if $(OUT),--out "$(OUT)")
