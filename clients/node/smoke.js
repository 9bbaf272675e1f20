'use strict';
/**
 * The Node client end to end: list the rules, simulate a momentum pool (tensors read from their
 * bytes), have a bad request refused (its field violation read from the status details), start
 * a small gradient-descent job and watch it to the end. Prints one JSON object
 * (NaN as null) that tests/deploy/test_node_client.py compares with the Python client.
 *
 *   node smoke.js --sim HOST:PORT --train HOST:PORT
 */
const { parseArgs } = require('node:util');
const q = require('./quantamm');

const TOKENS = ['BTC', 'ETH', 'USDC'];
const DAY = 86400;
const START = q.timestamp('2023-01-01T00:00:00Z');

// Two weeks at hourly chunks, 5-day memory, k = 20 per day, one row per hour.
const SIMULATE = {
  dataset: 'default',
  fingerprint: {
    tokens: TOKENS, rule: 'momentum', start_time: START,
    end_time: { seconds: START.seconds + 14 * DAY, nanos: 0 },
    chunk_period_minutes: 60, weight_interpolation_period_minutes: 60,
  },
  parameters: q.parameterSet({ memory_days: [5, 5, 5], k_per_day: [20, 20, 20] }),
  stride_minutes: 60,
};

// SIMULATE with a maximum weight change outside (0, 1]: refused with INVALID_ARGUMENT.
const BAD_SIMULATE = {
  ...SIMULATE,
  fingerprint: { ...SIMULATE.fingerprint, maximum_change_per_minute: -1 },
};

// Adam on 2 parameter sets x 4 windows, 4 iterations: train 20 days, test 7 days.
const TRAIN = {
  dataset: 'default',
  display_name: 'node-smoke',
  fingerprint: {
    tokens: TOKENS, rule: 'momentum', start_time: START,
    end_time: { seconds: START.seconds + 20 * DAY, nanos: 0 },
    end_test_time: { seconds: START.seconds + 27 * DAY, nanos: 0 },
  },
  settings: {
    method: 'TRAINING_METHOD_GRADIENT_DESCENT',
    gradient_descent: { n_iterations: 4, optimiser: 'adam', base_lr: 0.05, batch_size: 4 },
    bout_offset_minutes: 2 * 1440, val_fraction: 0.2, n_parameter_sets: 2, seed: 0,
    report_every: 1,
  },
};

function decodeAll(values) {
  return Object.fromEntries(Object.entries(values).map(([k, t]) => [k, q.decodeTensor(t, k)]));
}

async function main() {
  const { values: args } = parseArgs({ options: { sim: { type: 'string' }, train: { type: 'string' } } });
  const { sim, train } = q.connect(args);

  const rules = (await q.unary(sim, 'ListRules', {})).rules.map((r) => r.name);

  const run = await q.simulate(sim, SIMULATE);
  const s = run.summary;
  const simulation = {
    tokens: s.tokens, n_rows: s.n_rows, final_value_usd: s.final_value_usd, metrics: s.metrics,
    final_weights: q.decodeTensor(s.final_weights, 'final_weights'),
    values: run.values, weights: run.weights, reserves: run.reserves, prices: run.prices,
  };

  let refused = null;
  try {
    await q.stream(sim, 'Simulate', BAD_SIMULATE, 60);
  } catch (error) {
    refused = { code: error.code, details: error.details, field: error.field,
      violations: error.violations };
  }

  const { job_id: jobId } = await q.unary(train, 'StartJob', TRAIN, 60);
  const { events, job } = await q.watchJob(train, jobId);
  const training = {
    job_id: jobId,
    state: job.state,
    events: events.map((e) => ({ state: e.state, iteration: e.progress ? e.progress.iteration : null })),
    final_objective: job.result.final_objective,
    best_metric_value: job.result.best_metric_value,
    iterations_done: job.result.iterations_done,
    test_metrics: job.result.test_metrics,
    best_parameters: decodeAll(job.result.best_parameters.values),
  };

  process.stdout.write(JSON.stringify({ rules, simulation, refused, training }) + '\n');
  sim.close();
  train.close();
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
