// Shared by the wire test and the start-up benchmark: a fake Engine service (official stubs) that records
// Log calls, and a plugin process started as the engine starts it.
"use strict";

const { spawn } = require("node:child_process");
const grpc = require("@grpc/grpc-js");
const engineRpc = require("@pulumi/pulumi/proto/engine_grpc_pb");
const enginePb = require("@pulumi/pulumi/proto/engine_pb");
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");

function startEngine(logs) {
  const server = new grpc.Server();
  server.addService(engineRpc.EngineService, {
    log: (call, cb) => {
      const r = call.request;
      logs.push({ severity: r.getSeverity(), message: r.getMessage(), urn: r.getUrn() });
      cb(null, new emptyPb.Empty());
    },
    getRootResource: (_call, cb) => cb(null, new enginePb.GetRootResourceResponse()),
    setRootResource: (_call, cb) => cb(null, new enginePb.SetRootResourceResponse()),
    startDebugging: (_call, cb) => cb(null, new emptyPb.Empty()),
  });
  return new Promise((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve({ server, port })));
}

function startPlugin(command, args, engineAddress) {
  const child = spawn(command, [...args, engineAddress], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d.toString()));
  const port = new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("plugin printed no port within 30 s; stderr: " + stderr)), 30000);
    child.stdout.on("data", (d) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ port: out.slice(0, nl).trim(), firstLine: out.slice(0, nl + 1) });
      }
    });
    child.on("exit", (code) => reject(new Error(`plugin exited with ${code} before printing a port; stderr: ${stderr}`)));
  });
  return { child, port, stderr: () => stderr };
}

module.exports = { startEngine, startPlugin };
