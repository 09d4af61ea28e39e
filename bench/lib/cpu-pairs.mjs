// CPU time per request of servers compared in small interleaved batches: the load-robust measure
// behind versioning-cpu.mjs and cache-cpu.mjs.
//
// Why: on the shared 2-core machine the CPU time a server spends on the same requests moves with what
// else runs (the same 20,000 requests took 98–190 µs each on one server from one batch of a second or
// two to the next: caches and the SMT sibling are shared), and rps ratios swing by ±5–15 % a round. What
// changes that much changes slowly: two batches a few milliseconds apart see the same machine. So the
// servers (pinned to one CPU, this process to the other) take turns in batches of a few hundred
// requests, the order alternating, each batch's CPU time read from /proc/<pid>/task/*/schedstat
// (nanoseconds on a CPU, every thread of the process; /proc/<pid>/stat counts 10 ms ticks), and each
// pair of neighbouring batches gives one ratio. The median of many such ratios is the estimate; its
// spread is in the output.
//
// The client is a raw keep-alive socket per connection with one request in flight at a time (as
// autocannon in the rps harness), reading complete answers (status line, headers, Content-Length
// body): far cheaper than an HTTP client, and it runs on the other CPU.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { startServer } from './server.mjs';

/** Nanoseconds every thread of `pid` has spent on a CPU so far. */
export function cpuNs(pid) {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read (a short-lived helper): its few µs are lost.
    }
  }
  return total;
}

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
};

/** `{ method, path, headers }` as HTTP/1.1 request bytes. */
function requestBytes({ method = 'GET', path, headers = {} }) {
  let head = `${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n`;
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n`);
}

/**
 * A keep-alive connection that sends `count` requests (cycling `requests`), each when the answer to
 * the one before has arrived, and resolves with the last; rejects on a status other than
 * `expectStatus` or a lost connection.
 */
function openConnection(port, requests, expectStatus) {
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  let pending = 0;
  let buffer = Buffer.alloc(0);
  let done;
  let fail;
  let next = 0;
  const parse = () => {
    for (;;) {
      const end = buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buffer.toString('latin1', 0, end);
      const status = Number(head.slice(9, 12));
      const match = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (match === null) return fail(new Error(`an answer without Content-Length:\n${head}`));
      const total = end + 4 + Number(match[1]);
      if (buffer.length < total) return;
      buffer = buffer.subarray(total);
      if (status !== expectStatus) return fail(new Error(`status ${status}:\n${head}`));
      if (--pending === 0) done();
      else socket.write(requests[next++ % requests.length]);
    }
  };
  socket.on('data', (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    parse();
  });
  let lost;
  socket.on('error', (error) => {
    lost ??= error;
  });
  socket.on('close', () => {
    lost ??= new Error('the server closed the connection');
    if (pending > 0) fail(lost);
  });
  const ready = new Promise((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    ready,
    send(count) {
      if (lost !== undefined) return Promise.reject(lost);
      return new Promise((resolve, reject) => {
        done = resolve;
        fail = reject;
        pending = count;
        socket.write(requests[next++ % requests.length]);
      });
    },
    close: () => {
      pending = 0;
      socket.destroy();
    },
  };
}

/**
 * Starts every server pinned to CPU 1 (this process on CPU 0), warms each up, then runs `pairs`
 * rounds (split over `sessions` of fresh processes) in which every server gets one batch, the order
 * rotating; each batch's CPU time per request is paired with its reference's of the same round.
 *
 * @param {object} options
 * @param {Record<string, string>} options.servers name → server module path
 * @param {Array<[string, string]>} options.compare [server, reference] pairs: each gives the implied
 *   throughput ratio of the server against the reference (reference µs / server µs, per round)
 * @param {Array<{method?: string, path: string, headers?: Record<string, string>}>} options.requests
 * @param {number} options.pairs rounds
 * @param {number} options.batch requests per server per round (spread over the connections)
 * @param {string} options.node Node binary for the servers
 * @param {number} [options.sessions] fresh sets of server processes the rounds are split over (default 4)
 * @param {number} [options.connections] keep-alive connections per server (default 8)
 * @param {number} [options.warmup] requests per server before measuring (default 20,000)
 * @param {number} [options.expectStatus] every answer's status (default 200)
 */
export async function cpuPairs({
  servers,
  compare,
  requests,
  pairs,
  batch,
  node,
  sessions = 4,
  connections = 8,
  warmup = 20_000,
  expectStatus = 200,
}) {
  let pinned = true;
  try {
    execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  } catch {
    pinned = false;
  }
  const names = Object.keys(servers);
  const wire = requests.map(requestBytes);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const per = Math.max(1, Math.round(batch / connections));
  // Fresh processes per session, started in rotating order: two processes running the same code
  // differ by 1–2 % for their whole life (memory layout, JIT decisions; see README), which one
  // session cannot tell from a difference between the servers.
  for (let session = 0; session < sessions; session++) {
    const order = names.map((_, i) => names[(i + session) % names.length]);
    const rounds = Math.ceil(pairs / sessions);
    await oneSession({
      servers,
      order,
      wire,
      samples,
      rounds,
      per,
      node,
      pinned,
      connections,
      warmup,
      expectStatus,
    });
  }
  const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;
  const usPerRequest = Object.fromEntries(names.map((n) => [n, round(median(samples[n]), 2)]));
  const impliedRatio = {};
  for (const [name, ref] of compare) {
    const paired = samples[name].map((us, i) => samples[ref][i] / us);
    impliedRatio[`${name} / ${ref}`] = {
      median: round(median(paired), 4),
      q25: round(quantile(paired, 0.25), 4),
      q75: round(quantile(paired, 0.75), 4),
    };
  }
  return {
    node: execFileSync(node, ['--version']).toString().trim(),
    sessions,
    pairs: samples[names[0]].length,
    requestsPerBatch: per * connections,
    connections,
    pinned,
    usPerRequest,
    impliedRatio,
  };
}

/** One session: start every server (in `order`), warm them up in turns, run `rounds` rounds, stop. */
async function oneSession({
  servers,
  order,
  wire,
  samples,
  rounds,
  per,
  node,
  pinned,
  connections,
  warmup,
  expectStatus,
}) {
  const names = order;
  const running = {};
  const links = {};
  try {
    for (const name of names) {
      running[name] = await startServer(servers[name], {
        node,
        label: name,
        prefix: pinned ? ['taskset', '-c', '1'] : [],
      });
      links[name] = Array.from({ length: connections }, () =>
        openConnection(running[name].port, wire, expectStatus),
      );
      await Promise.all(links[name].map((link) => link.ready));
    }
    const run = async (name, count) => {
      const { pid } = running[name];
      const before = cpuNs(pid);
      await Promise.all(links[name].map((link) => link.send(count)));
      return (cpuNs(pid) - before) / (count * connections) / 1000;
    };
    // Warmed up in turns too: a connection left idle for the server's keep-alive timeout (5 s) while
    // the others warm up would be closed.
    for (let done = 0; done < warmup; done += per * connections) {
      for (const name of names) await run(name, per);
    }
    for (let round = 0; round < rounds; round++) {
      const turn = names.map((_, i) => names[(i + round) % names.length]);
      const measured = {};
      for (const name of turn) measured[name] = await run(name, per);
      // Pushed together, so that the i-th sample of every server comes from the same round.
      for (const name of names) samples[name].push(measured[name]);
    }
  } finally {
    for (const list of Object.values(links)) for (const link of list) link.close();
    await Promise.all(Object.values(running).map((r) => r.stop()));
  }
}
