// Start-up benchmark: how long from starting a provider plugin process until it has answered its first
// RPC (GetPluginInfo), as the engine experiences it on every preview and update, and how long the first
// GetSchema then takes. Compares the RegistryInfra plugin with the smallest provider on the official
// Node.js SDK, beside the spawn floor (spawn-floor.c: a C program that only listens and prints its port),
// runs interleaved so that machine noise hits all alike, and prints medians and ratios.
//
// Also prints each plugin's CPU time up to the first GetSchema's answer (the sum of its threads' run time from
// /proc/PID/task/*/schedstat, read before it is stopped): on a loaded machine that stays put while wall times do not.
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
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");
const { startEngine, startPlugin } = require("./lib/plugin-host");

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
  const results = Object.fromEntries(subjects.map((s) => [s.name, { port: [], answer: [], schema: [], cpu: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const s of subjects) {
      const r = await once(s.command, s.args, engineAddress, s.grpc !== false);
      results[s.name].port.push(r.portMs);
      results[s.name].answer.push(r.answerMs);
      results[s.name].schema.push(r.schemaMs);
      results[s.name].cpu.push(r.cpuMs);
    }
  }
  server.forceShutdown();
  fs.rmSync(floorDir, { recursive: true, force: true });
  const [load1, load5] = os.loadavg();
  console.log(`start-up to first answer (GetPluginInfo), then the first GetSchema; ${runs} interleaved runs each, after one warm-up; load average ${load1.toFixed(2)} ${load5.toFixed(2)}`);
  for (const s of subjects) {
    const r = results[s.name];
    const answer = s.grpc === false ? "(no gRPC)" : `first answer: median ${median(r.answer).toFixed(1)} ms (min ${Math.min(...r.answer).toFixed(1)}, max ${Math.max(...r.answer).toFixed(1)})   first GetSchema: median ${median(r.schema).toFixed(2)} ms   CPU to then: median ${median(r.cpu).toFixed(1)} ms`;
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
    console.log(`ratio registryinfra / baseline build: first answer ${r("answer")}, port printed ${r("port")}, first GetSchema ${r("schema")}, CPU ${r("cpu")}`);
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
