// Start-up benchmark: how long from starting a provider plugin process until it has answered its first
// RPC (GetPluginInfo), as the engine experiences it on every preview and update. Compares the
// RegistryInfra plugin with the smallest provider on the official Node.js SDK, runs interleaved so that
// machine noise hits both alike, and prints medians and the ratio.
//
// usage: node startup-bench.js PLUGIN_BINARY [RUNS]
"use strict";

const path = require("node:path");
const grpc = require("@grpc/grpc-js");
const providerRpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");
const { startEngine, startPlugin } = require("./lib/plugin-host");

async function once(command, args, engineAddress) {
  const t0 = process.hrtime.bigint();
  const plugin = startPlugin(command, args, engineAddress);
  const { port } = await plugin.port;
  const tPort = process.hrtime.bigint();
  const client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const version = await new Promise((resolve, reject) =>
    client.getPluginInfo(new emptyPb.Empty(), (err, r) => (err ? reject(err) : resolve(r.getVersion()))));
  const tAnswer = process.hrtime.bigint();
  client.close();
  const exited = new Promise((resolve) => plugin.child.on("exit", resolve));
  plugin.child.kill("SIGKILL");
  await exited;
  return { portMs: Number(tPort - t0) / 1e6, answerMs: Number(tAnswer - t0) / 1e6, version };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const binary = process.argv[2];
  const runs = Number(process.argv[3] || 15);
  if (!binary) throw new Error("usage: node startup-bench.js PLUGIN_BINARY [RUNS]");
  const { server, port } = await startEngine([]);
  const engineAddress = `127.0.0.1:${port}`;
  const subjects = [
    { name: "registryinfra", command: binary, args: [] },
    { name: "node-sdk-baseline", command: process.execPath, args: [path.join(__dirname, "baseline-provider.js")] },
  ];
  // One warm-up run each so that the OS file cache is equally warm for both.
  for (const s of subjects) await once(s.command, s.args, engineAddress);
  const results = Object.fromEntries(subjects.map((s) => [s.name, { port: [], answer: [] }]));
  for (let i = 0; i < runs; i++) {
    for (const s of subjects) {
      const r = await once(s.command, s.args, engineAddress);
      results[s.name].port.push(r.portMs);
      results[s.name].answer.push(r.answerMs);
    }
  }
  server.forceShutdown();
  console.log(`start-up to first answer (GetPluginInfo), ${runs} interleaved runs each, after one warm-up`);
  for (const s of subjects) {
    const r = results[s.name];
    console.log(`${s.name.padEnd(20)} port printed: median ${median(r.port).toFixed(1)} ms   first answer: median ${median(r.answer).toFixed(1)} ms   (min ${Math.min(...r.answer).toFixed(1)}, max ${Math.max(...r.answer).toFixed(1)})`);
  }
  const ratio = median(results["registryinfra"].answer) / median(results["node-sdk-baseline"].answer);
  console.log(`ratio registryinfra / node-sdk-baseline (first answer medians): ${ratio.toFixed(3)}  (target <= 0.200)`);
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
