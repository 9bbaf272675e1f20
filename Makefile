# Set up the virtual environment on first use, then run the requested job.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test run bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	cd clients/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $(STAMP)
$(STAMP): clients/node/package-lock.json

## make test: install the project with its test extras and run the whole suite
test: $(STAMP)
	$(PY) -m pytest -q

## make run: train a BTC/ETH/USDC momentum pool on the bundled data (services started in the
## background), print progress and train/validation/test metrics, plot to out/demo.png
run: $(STAMP)
	$(VENV)/bin/quantamm train examples/momentum_btc_eth_usdc.toml --report-every 5 --plot out/demo.png

## make bench: the benchmark tables (engine, gRPC vs in-process, training, load); figures in bench/RESULTS.md
bench: $(STAMP)
	$(PY) bench/engine.py
	$(PY) bench/service.py
	$(PY) bench/train.py
	$(PY) bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache
