'use strict';
/**
 * QuantAMM services from Node: the .proto files under protos/ are loaded at run time (no
 * generated code), tensors are read from and written to their little-endian bytes, and calls
 * are promises with a deadline. A refused call rejects with grpc-js's error plus the field
 * violations the server sent (`err.violations = [{ field, description }]`, `err.field` the first
 * one's field): decoded from the google.rpc.Status in the grpc-status-details-bin trailer.
 *
 *   const q = require('./quantamm');
 *   const { sim, train } = q.connect({ sim: 'localhost:50051', train: 'localhost:50052' });
 *   const rules = (await q.unary(sim, 'ListRules', {})).rules;
 */
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTO_ROOT = path.resolve(__dirname, '..', '..', 'protos');
// google.rpc.Status and BadRequest (subsets of googleapis' files, kept next to this one).
const RPC_PROTOS = ['status.proto', 'error_details.proto']
  .map((name) => path.join(__dirname, 'protos', 'google', 'rpc', name));
const DETAILS_KEY = 'grpc-status-details-bin';
const BAD_REQUEST_URL = 'type.googleapis.com/google.rpc.BadRequest';
// Calls spread over every address a name resolves to (a Kubernetes headless Service).
const CHANNEL_OPTIONS = {
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
  'grpc.max_send_message_length': 64 * 1024 * 1024,
};
// dtype -> [bytes per element, read one element at a byte offset of a DataView (little-endian)].
const READERS = {
  DATA_TYPE_FLOAT64: [8, (view, at) => view.getFloat64(at, true)],
  DATA_TYPE_FLOAT32: [4, (view, at) => view.getFloat32(at, true)],
  DATA_TYPE_INT64: [8, (view, at) => Number(view.getBigInt64(at, true))],
  DATA_TYPE_INT32: [4, (view, at) => view.getInt32(at, true)],
  DATA_TYPE_BOOL: [1, (view, at) => view.getUint8(at) !== 0],
};
const TERMINAL = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED',
  'JOB_STATE_INTERRUPTED']);

/** The quantamm.v1 package: message field names as in the .proto, enums as names, int64 as
 * Number, bytes as Buffer. */
function loadPackage(protoRoot = PROTO_ROOT) {
  const files = fs.readdirSync(path.join(protoRoot, 'quantamm', 'v1'))
    .filter((name) => name.endsWith('.proto'))
    .map((name) => path.join('quantamm', 'v1', name));
  const definition = protoLoader.loadSync(files, {
    includeDirs: [protoRoot], keepCase: true, longs: Number, enums: String, defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).quantamm.v1;
}

/**
 * Stubs of both services. `rootCert` (PEM Buffer) turns on TLS; `token` is sent as a bearer
 * token with every call (see `unary`).
 */
function connect({ sim, train, rootCert = null, token = null }) {
  const v1 = loadPackage();
  const credentials = rootCert ? grpc.credentials.createSsl(rootCert) : grpc.credentials.createInsecure();
  const open = (Service, address) => {
    const client = new Service(address, credentials, CHANNEL_OPTIONS);
    client.metadata = new grpc.Metadata();
    if (token) client.metadata.set('authorization', `Bearer ${token}`);
    return client;
  };
  return {
    sim: sim && open(v1.SimulationService, sim),
    train: train && open(v1.TrainingService, train),
  };
}

let rpcTypes = null;
function statusTypes() {
  if (!rpcTypes) {
    const root = new protobuf.Root().loadSync(RPC_PROTOS, { keepCase: true });
    rpcTypes = { Status: root.lookupType('google.rpc.Status'),
      BadRequest: root.lookupType('google.rpc.BadRequest') };
  }
  return rpcTypes;
}

/**
 * The field violations ([{ field, description }]) of the google.rpc.BadRequest details in a
 * failed call's grpc-status-details-bin trailer; [] when it has none (or they do not decode).
 */
function violations(error) {
  const trailer = error && error.metadata && typeof error.metadata.get === 'function'
    ? error.metadata.get(DETAILS_KEY) : [];
  if (!trailer.length) return [];
  try {
    const { Status, BadRequest } = statusTypes();
    const status = Status.decode(Buffer.from(trailer[0]));
    return status.details
      .filter((any) => any.type_url === BAD_REQUEST_URL)
      .flatMap((any) => BadRequest.decode(any.value).field_violations)
      .map((v) => ({ field: v.field, description: v.description }));
  } catch (decodeError) {
    return [];
  }
}

/** `error` with `violations` (see `violations`) and `field` (the first one's, else ''). */
function withViolations(error) {
  if (error && typeof error === 'object' && !('violations' in error)) {
    error.violations = violations(error);
    error.field = error.violations.length ? error.violations[0].field : '';
  }
  return error;
}

function deadline(seconds) {
  return new Date(Date.now() + seconds * 1000);
}

/** `client.method(request)` as a promise, failing after `seconds`. */
function unary(client, method, request, seconds = 600) {
  return new Promise((resolve, reject) => {
    client[method](request, client.metadata, { deadline: deadline(seconds) },
      (error, response) => (error ? reject(withViolations(error)) : resolve(response)));
  });
}

/** Every message of a server-streaming call; `onMessage` sees each as it comes. */
function stream(client, method, request, seconds = 600, onMessage = () => {}) {
  return new Promise((resolve, reject) => {
    const messages = [];
    const call = client[method](request, client.metadata, { deadline: deadline(seconds) });
    call.on('data', (message) => { messages.push(message); onMessage(message); });
    call.on('error', (error) => reject(withViolations(error)));
    call.on('end', () => resolve(messages));
  });
}

/** A Tensor as { shape, values }: values is a flat array in C order. */
function decodeTensor(tensor, field = 'tensor') {
  const reader = READERS[tensor.dtype];
  if (!reader) throw new Error(`${field}: unsupported dtype ${tensor.dtype}`);
  const [size, read] = reader;
  const shape = tensor.shape.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = tensor.data;
  if (data.length !== count * size) {
    throw new Error(`${field}: ${data.length} bytes do not match shape [${shape}] of ${tensor.dtype}`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.length);
  const values = Array.from({ length: count }, (_, i) => read(view, i * size));
  return { shape, values };
}

/** float64 values (flat, C order) of `shape` as a Tensor. */
function encodeTensor(values, shape = [values.length]) {
  const data = Buffer.alloc(values.length * 8);
  values.forEach((value, i) => data.writeDoubleLE(value, i * 8));
  return { shape, dtype: 'DATA_TYPE_FLOAT64', data };
}

/** Named per-asset values ({ name: [v, ...] }) as a ParameterSet. */
function parameterSet(values) {
  return { values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encodeTensor(v)])) };
}

/** Seconds since the epoch as a google.protobuf.Timestamp. */
function timestamp(isoDate) {
  return { seconds: Math.floor(Date.parse(isoDate) / 1000), nanos: 0 };
}

/** One simulated window: the summary and the minute series joined from every chunk. */
async function simulate(sim, request, seconds = 600) {
  const [first, ...rest] = await stream(sim, 'Simulate', request, seconds);
  const series = {};
  for (const name of ['values', 'weights', 'reserves', 'prices']) {
    const parts = rest.map((m) => decodeTensor(m.chunk[name], `chunk.${name}`));
    series[name] = {
      shape: [parts.reduce((rows, p) => rows + p.shape[0], 0), ...parts[0].shape.slice(1)],
      values: parts.flatMap((p) => p.values),
    };
  }
  return { summary: first.summary, ...series };
}

/** Watch a job until it ends: every event seen, then the job (with its result). */
async function watchJob(train, jobId, seconds = 600, onEvent = () => {}) {
  const events = [];
  while (true) {
    await stream(train, 'WatchJob', { job_id: jobId }, seconds, (event) => {
      events.push(event);
      onEvent(event);
    });
    const { job } = await unary(train, 'GetJob', { job_id: jobId }, 30);
    if (TERMINAL.has(job.state)) return { events, job };
  }
}

module.exports = {
  PROTO_ROOT, loadPackage, connect, unary, stream, violations, decodeTensor, encodeTensor,
  parameterSet, timestamp, simulate, watchJob,
};
