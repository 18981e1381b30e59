/**
 * Every Kafka request a process makes, with when it was sent and answered (epoch ms, sub-millisecond), for
 * `NODE_OPTIONS="--require ./bench/request-log.cjs" BENCH_REQUEST_LOG_DIR=<dir> npm run bench:latency` (the services
 * inherit NODE_OPTIONS and the variable). One file per process, <dir>/req-<pid>.jsonl: a first line naming the process
 * ({"argv": …}), then one line per request: API (`a`), sent (`t0`), answered (`t1`), and for a Fetch the records it brought
 * (`n`) and by topic (`tp`), or the error's type (`err`). It wraps KafkaJS 2.2's Connection#send, so it sees every
 * request of every client of the process. `npx tsx bench/request-timeline.ts <dir> <BENCH_TRACE_FILE>` lines the
 * requests up with the bench's alerts. Measurement only: nothing of the services loads it.
 */
const { appendFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.BENCH_REQUEST_LOG_DIR;
let Connection = null;
if (dir) {
  try {
    Connection = require(require.resolve('kafkajs/src/network/connection.js', { paths: [process.cwd(), join(__dirname, '..')] }));
  } catch {
    Connection = null; // a process without KafkaJS (npm, the tsx launcher)
  }
}
if (Connection) {
  const file = join(dir, `req-${process.pid}.jsonl`);
  appendFileSync(file, `${JSON.stringify({ argv: process.argv.slice(1).join(' ') })}\n`);
  let lines = [];
  const flush = () => {
    if (lines.length === 0) return;
    appendFileSync(file, `${lines.join('\n')}\n`);
    lines = [];
  };
  setInterval(flush, 1000).unref();
  process.on('exit', flush);
  const now = () => performance.timeOrigin + performance.now();
  const send = Connection.prototype.send;
  Connection.prototype.send = async function (args) {
    const t0 = now();
    const a = args.request.apiName;
    try {
      const res = await send.call(this, args);
      let n = 0;
      const tp = [];
      if (a === 'Fetch' && res && Array.isArray(res.responses)) {
        for (const r of res.responses) {
          let m = 0;
          for (const p of r.partitions) m += (p.messages || []).length;
          if (m > 0) tp.push(`${r.topicName}:${m}`);
          n += m;
        }
      }
      lines.push(JSON.stringify({ a, t0, t1: now(), n, ...(tp.length > 0 ? { tp } : {}) }));
      return res;
    } catch (err) {
      lines.push(JSON.stringify({ a, t0, t1: now(), err: (err && err.type) || String(err && err.message).slice(0, 60) }));
      throw err;
    }
  };
}
