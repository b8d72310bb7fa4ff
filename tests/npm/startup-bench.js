// Start-up benchmark: how long from starting a provider plugin process until it has answered its first
// RPC (GetPluginInfo), as the engine experiences it on every preview and update, and how long the first
// GetSchema then takes. Compares the RegistryInfra plugin with the smallest provider on the official
// Node.js SDK, beside the spawn floor (spawn-floor.c: a C program that only listens and prints its port),
// runs interleaved so that machine noise hits all alike, and prints medians and ratios.
//
// Each plugin is started twice a round. Once driven by grpc-js (the official stubs), whose first call of a method
// includes the client's own setup of that method, most of a fast answer's time. Once driven by a bare HTTP/2 client
// (lib/raw-grpc.js: node:http2, the headers the engine's grpc-go client sends, the official protos' bytes): a
// GetPluginInfo sets the connection up, then the first GetSchema is timed from the request to its trailers, then a
// second GetSchema and a GetPluginInfo (the round trip of a small call) on the same connection.
//
// Also prints each plugin's CPU time up to the first GetSchema's answer (the sum of its threads' run time from
// /proc/PID/task/*/schedstat, read before it is stopped), and over the bare client the CPU the plugin spent from the
// first GetSchema's request to its answer (work in the background at that time included): on a loaded machine
// CPU time stays put while wall times do not.
// With --baseline OTHER_BINARY another build of the plugin runs interleaved in the same rounds, with the ratios.
//
// usage: node startup-bench.js PLUGIN_BINARY [RUNS] [--baseline OTHER_BINARY]
"use strict";

const path = require("node:path");
const os = require("node:os");
const fs = require("node:fs");
const { execFileSync } = require("node:child_process");
const grpc = require("@grpc/grpc-js");
const providerRpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const providerPb = require("@pulumi/pulumi/proto/provider_pb");
const pluginPb = require("@pulumi/pulumi/proto/plugin_pb");
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");
const { startEngine, startPlugin } = require("./lib/plugin-host");
const raw = require("./lib/raw-grpc");

const ms = (from, to = process.hrtime.bigint()) => Number(to - from) / 1e6;

async function once(command, args, engineAddress, speaksGrpc = true) {
  const t0 = process.hrtime.bigint();
  const plugin = startPlugin(command, args, engineAddress);
  const { port } = await plugin.port;
  const tPort = process.hrtime.bigint();
  let version = null;
  let tAnswer = tPort;
  let schemaMs = NaN;
  if (speaksGrpc) {
    const client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    version = await new Promise((resolve, reject) =>
      client.getPluginInfo(new emptyPb.Empty(), (err, r) => (err ? reject(err) : resolve(r.getVersion()))));
    tAnswer = process.hrtime.bigint();
    const s0 = process.hrtime.bigint();
    await new Promise((resolve, reject) =>
      client.getSchema(new providerPb.GetSchemaRequest(), (err, r) => (err ? reject(err) : resolve(r.getSchema()))));
    schemaMs = Number(process.hrtime.bigint() - s0) / 1e6;
    client.close();
  }
  const cpuMs = cpuTimeMs(plugin.child.pid);
  const exited = new Promise((resolve) => plugin.child.on("exit", resolve));
  plugin.child.kill("SIGKILL");
  await exited;
  return { portMs: Number(tPort - t0) / 1e6, answerMs: Number(tAnswer - t0) / 1e6, schemaMs, version, cpuMs };
}

// The same start over the bare HTTP/2 client: the first answer (GetPluginInfo), then the first GetSchema, timed from
// its request to its trailers, with the plugin's CPU over that time; then a second GetSchema and a small call.
async function onceRaw(command, args, engineAddress) {
  const t0 = process.hrtime.bigint();
  const plugin = startPlugin(command, args, engineAddress);
  const { port } = await plugin.port;
  const session = await raw.connect(port);
  const info = await raw.unary(session, "/pulumirpc.ResourceProvider/GetPluginInfo", new emptyPb.Empty().serializeBinary());
  const answerMs = ms(t0);
  const version = pluginPb.PluginInfo.deserializeBinary(ok(info, "GetPluginInfo")).getVersion();
  const request = new providerPb.GetSchemaRequest().serializeBinary();
  const cpu0 = cpuTimeMs(plugin.child.pid);
  const s0 = process.hrtime.bigint();
  const first = await raw.unary(session, "/pulumirpc.ResourceProvider/GetSchema", request);
  const schemaMs = ms(s0, first.end);
  const schemaCpuMs = cpuTimeMs(plugin.child.pid) - cpu0;
  const s1 = process.hrtime.bigint();
  const second = await raw.unary(session, "/pulumirpc.ResourceProvider/GetSchema", request);
  const secondMs = ms(s1, second.end);
  const s2 = process.hrtime.bigint();
  ok(await raw.unary(session, "/pulumirpc.ResourceProvider/GetPluginInfo", new emptyPb.Empty().serializeBinary()), "GetPluginInfo");
  const smallMs = ms(s2);
  // Decoded after the timing, as the official protos decode it, and checked: the same schema both times, JSON.
  const schema = providerPb.GetSchemaResponse.deserializeBinary(ok(first, "GetSchema")).getSchema();
  if (providerPb.GetSchemaResponse.deserializeBinary(ok(second, "GetSchema")).getSchema() !== schema) throw new Error(`${command}: two GetSchema answers differ`);
  JSON.parse(schema);
  session.close();
  const exited = new Promise((resolve) => plugin.child.on("exit", resolve));
  plugin.child.kill("SIGKILL");
  await exited;
  return { answerMs, schemaMs, schemaCpuMs, secondMs, smallMs, version, schemaLength: schema.length, encoding: first.encoding, wireBytes: first.wireBytes };
}

function ok(result, method) {
  if (result.status !== 0) throw new Error(`${method}: grpc-status ${result.status} ${result.detail}`);
  return result.message;
}

// The CPU time of a live process's threads so far (Linux schedstat: nanoseconds on the CPU); NaN elsewhere.
function cpuTimeMs(pid) {
  try {
    let ns = 0;
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    }
    return ns / 1e6;
  } catch {
    return NaN;
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const argv = process.argv.slice(2);
  const flag = argv.indexOf("--baseline");
  const baseline = flag >= 0 ? argv.splice(flag, 2)[1] : null;
  const binary = argv[0];
  const runs = Number(argv[1] || 15);
  if (!binary || (flag >= 0 && !baseline)) throw new Error("usage: node startup-bench.js PLUGIN_BINARY [RUNS] [--baseline OTHER_BINARY]");
  const { server, port } = await startEngine([]);
  const engineAddress = `127.0.0.1:${port}`;
  const floorDir = fs.mkdtempSync(path.join(os.tmpdir(), "spawn-floor-"));
  const floor = path.join(floorDir, "spawn-floor");
  execFileSync(process.env.CC || "cc", ["-O2", "-o", floor, path.join(__dirname, "spawn-floor.c")], { stdio: "inherit" });
  const subjects = [
    { name: "registryinfra", command: binary, args: [] },
    ...(baseline ? [{ name: "baseline build", command: baseline, args: [] }] : []),
    { name: "node-sdk-baseline", command: process.execPath, args: [path.join(__dirname, "baseline-provider.js")] },
    { name: "spawn-floor (C)", command: floor, args: [], grpc: false },
  ];
  // One warm-up run each so that the OS file cache is equally warm for all.
  for (const s of subjects) await once(s.command, s.args, engineAddress, s.grpc !== false);
  for (const s of subjects) if (s.grpc !== false) await onceRaw(s.command, s.args, engineAddress);
  const results = Object.fromEntries(subjects.map((s) => [s.name, { port: [], answer: [], afterPort: [], schema: [], cpu: [], raw: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const s of subjects) {
      const r = await once(s.command, s.args, engineAddress, s.grpc !== false);
      results[s.name].port.push(r.portMs);
      results[s.name].answer.push(r.answerMs);
      results[s.name].schema.push(r.schemaMs);
      results[s.name].cpu.push(r.cpuMs);
      results[s.name].afterPort.push(r.answerMs - r.portMs);
    }
    for (const s of subjects) {
      if (s.grpc !== false) results[s.name].raw.push(await onceRaw(s.command, s.args, engineAddress));
    }
  }
  server.forceShutdown();
  fs.rmSync(floorDir, { recursive: true, force: true });
  const [load1, load5] = os.loadavg();
  console.log(`start-up to first answer (GetPluginInfo), then the first GetSchema; ${runs} interleaved runs each, after one warm-up; load average ${load1.toFixed(2)} ${load5.toFixed(2)}`);
  for (const s of subjects) {
    const r = results[s.name];
    const answer = s.grpc === false ? "(no gRPC)" : `first answer: median ${median(r.answer).toFixed(1)} ms (min ${Math.min(...r.answer).toFixed(1)}, max ${Math.max(...r.answer).toFixed(1)}; port to answer ${median(r.afterPort).toFixed(1)})   first GetSchema: median ${median(r.schema).toFixed(2)} ms   CPU to then: median ${median(r.cpu).toFixed(1)} ms`;
    console.log(`${s.name.padEnd(20)} port printed: median ${median(r.port).toFixed(1)} ms   ${answer}`);
  }
  const ours = results["registryinfra"];
  const ratio = median(ours.answer) / median(results["node-sdk-baseline"].answer);
  console.log(`ratio registryinfra / node-sdk-baseline (first answer medians): ${ratio.toFixed(3)}  (target <= ${(1 / 15).toFixed(3)}, 1/15)`);
  console.log(`ratio registryinfra / spawn floor (port printed medians): ${(median(ours.port) / median(results["spawn-floor (C)"].port)).toFixed(2)}`);
  console.log(`registryinfra first GetSchema: median ${median(ours.schema).toFixed(2)} ms  (target <= 2 ms)`);
  if (baseline) {
    const base = results["baseline build"];
    const r = (k) => (median(ours[k]) / median(base[k])).toFixed(2);
    console.log(`ratio registryinfra / baseline build: first answer ${r("answer")}, port printed ${r("port")}, port to first answer ${r("afterPort")}, first GetSchema ${r("schema")}, CPU ${r("cpu")}`);
  }
  console.log("over a bare HTTP/2 client (the engine's headers, grpc-accept-encoding gzip; the connection set up by a GetPluginInfo first):");
  const rawMedian = (name, k) => median(results[name].raw.map((r) => r[k]));
  for (const s of subjects) {
    if (s.grpc === false) continue;
    const r = results[s.name].raw;
    const f = (k, digits = 2) => rawMedian(s.name, k).toFixed(digits);
    console.log(`${s.name.padEnd(20)} first GetSchema: median ${f("schemaMs")} ms (min ${Math.min(...r.map((x) => x.schemaMs)).toFixed(2)}, max ${Math.max(...r.map((x) => x.schemaMs)).toFixed(2)}), plugin CPU meanwhile ${f("schemaCpuMs")} ms   second GetSchema ${f("secondMs")} ms   a small call (GetPluginInfo) ${f("smallMs")} ms   first answer ${f("answerMs", 1)} ms   schema ${r[0].schemaLength} characters, ${r[0].wireBytes} bytes ${r[0].encoding}`);
  }
  const rawRatio = (k, other) => (rawMedian("registryinfra", k) / rawMedian(other, k)).toFixed(2);
  console.log(`ratio registryinfra / node-sdk-baseline over the bare client: first GetSchema ${rawRatio("schemaMs", "node-sdk-baseline")}, plugin CPU meanwhile ${rawRatio("schemaCpuMs", "node-sdk-baseline")}`);
  if (baseline) {
    console.log(`ratio registryinfra / baseline build over the bare client: first GetSchema ${rawRatio("schemaMs", "baseline build")}, plugin CPU meanwhile ${rawRatio("schemaCpuMs", "baseline build")}, second GetSchema ${rawRatio("secondMs", "baseline build")}, first answer ${rawRatio("answerMs", "baseline build")}`);
  }
  console.log(`registryinfra first GetSchema over the bare client: median ${rawMedian("registryinfra", "schemaMs").toFixed(2)} ms  (target <= 2 ms; a small call's round trip here: ${rawMedian("registryinfra", "smallMs").toFixed(2)} ms)`);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
