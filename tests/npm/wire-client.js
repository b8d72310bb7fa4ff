// Drives a provider plugin binary the way the Pulumi engine does, through the official generated gRPC
// stubs that ship in @pulumi/pulumi (code this team did not write): start the binary with the address of
// an Engine service, read the port from its stdout, call the ResourceProvider RPCs, and print a JSON
// transcript on stdout for the C# test to assert on.
//
// usage: node wire-client.js PLUGIN_BINARY
"use strict";

const grpc = require("@grpc/grpc-js");
const providerRpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
const providerPb = require("@pulumi/pulumi/proto/provider_pb");
const { startEngine, startPlugin } = require("./lib/plugin-host");
const emptyPb = require("google-protobuf/google/protobuf/empty_pb");
const structPb = require("google-protobuf/google/protobuf/struct_pb");

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const TYPE = "registryinfra:index:RegistryProfile";
const URN = `urn:pulumi:wire::test::${TYPE}::profile`;

const secret = (value) => ({ [SIG]: SECRET_SIG, value });
const toStruct = (obj) => structPb.Struct.fromJavaScript(obj);
const fromStruct = (s) => (s ? s.toJavaScript() : null);

function unary(client, method, request) {
  return new Promise((resolve) =>
    client[method](request, (err, response) =>
      resolve(err ? { error: { code: err.code, details: err.details } } : { response })));
}

async function main() {
  const binary = process.argv[2];
  if (!binary) throw new Error("usage: node wire-client.js PLUGIN_BINARY");
  const transcript = { calls: {} };
  const logs = [];
  const { server: engine, port: enginePort } = await startEngine(logs);
  const plugin = startPlugin(binary, [], `127.0.0.1:${enginePort}`);
  const { port, firstLine } = await plugin.port;
  transcript.stdoutFirstLine = firstLine;
  const client = new providerRpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const record = (name, result, map) => {
    transcript.calls[name] = result.error ? { error: result.error } : map(result.response);
  };

  record("getPluginInfo", await unary(client, "getPluginInfo", new emptyPb.Empty()), (r) => ({ version: r.getVersion() }));

  const schemaReq = new providerPb.GetSchemaRequest();
  schemaReq.setVersion(0);
  record("getSchema", await unary(client, "getSchema", schemaReq), (r) => ({ schema: JSON.parse(r.getSchema()) }));

  const checkConfig = new providerPb.CheckRequest();
  checkConfig.setUrn("urn:pulumi:wire::test::pulumi:providers:registryinfra::default");
  checkConfig.setOlds(toStruct({}));
  checkConfig.setNews(toStruct({ version: "0.1.0" }));
  record("checkConfig", await unary(client, "checkConfig", checkConfig), (r) => ({ inputs: fromStruct(r.getInputs()), failures: r.getFailuresList().map((f) => f.toObject()) }));

  const configure = new providerPb.ConfigureRequest();
  configure.setArgs(toStruct({ version: "0.1.0" }));
  configure.setAcceptsecrets(true);
  configure.setAcceptresources(true);
  record("configure", await unary(client, "configure", configure), (r) => r.toObject());

  // validate: false, since no registry is reachable here (Check would report registry.example.com unreachable).
  const inputs = { server: "https://Registry.Example.com/", username: "robot", password: secret("hunter2-wire-secret"), validate: false };
  const check = new providerPb.CheckRequest();
  check.setUrn(URN);
  check.setType(TYPE);
  check.setName("profile");
  check.setOlds(toStruct({}));
  check.setNews(toStruct(inputs));
  const checked = await unary(client, "check", check);
  record("check", checked, (r) => ({ inputs: fromStruct(r.getInputs()), failures: r.getFailuresList().map((f) => f.toObject()) }));

  const badCheck = new providerPb.CheckRequest();
  badCheck.setUrn(URN);
  badCheck.setType(TYPE);
  badCheck.setOlds(toStruct({}));
  badCheck.setNews(toStruct({ server: "", password: secret("x") }));
  record("checkInvalid", await unary(client, "check", badCheck), (r) => ({ failures: r.getFailuresList().map((f) => f.toObject()) }));

  const checkedInputs = checked.response ? checked.response.getInputs() : toStruct(inputs);
  const preview = new providerPb.CreateRequest();
  preview.setUrn(URN);
  preview.setType(TYPE);
  preview.setProperties(checkedInputs);
  preview.setPreview(true);
  record("createPreview", await unary(client, "create", preview), (r) => ({ id: r.getId(), properties: fromStruct(r.getProperties()) }));

  const create = new providerPb.CreateRequest();
  create.setUrn(URN);
  create.setType(TYPE);
  create.setProperties(checkedInputs);
  const created = await unary(client, "create", create);
  record("create", created, (r) => ({ id: r.getId(), properties: fromStruct(r.getProperties()) }));
  const id = created.response ? created.response.getId() : "unknown";
  const state = created.response ? created.response.getProperties() : toStruct({});

  const newInputs = { ...inputs, password: secret("hunter3-wire-secret") };
  const diff = new providerPb.DiffRequest();
  diff.setUrn(URN);
  diff.setType(TYPE);
  diff.setId(id);
  diff.setOlds(state);
  diff.setOldInputs(checkedInputs);
  diff.setNews(toStruct(newInputs));
  record("diff", await unary(client, "diff", diff), (r) => r.toObject());

  const replaceDiff = new providerPb.DiffRequest();
  replaceDiff.setUrn(URN);
  replaceDiff.setType(TYPE);
  replaceDiff.setId(id);
  replaceDiff.setOlds(state);
  replaceDiff.setOldInputs(checkedInputs);
  replaceDiff.setNews(toStruct({ ...inputs, server: "other.example.com" }));
  record("diffReplace", await unary(client, "diff", replaceDiff), (r) => r.toObject());

  const update = new providerPb.UpdateRequest();
  update.setUrn(URN);
  update.setType(TYPE);
  update.setId(id);
  update.setOlds(state);
  update.setOldInputs(checkedInputs);
  update.setNews(toStruct(newInputs));
  record("update", await unary(client, "update", update), (r) => ({ properties: fromStruct(r.getProperties()) }));

  const read = new providerPb.ReadRequest();
  read.setUrn(URN);
  read.setType(TYPE);
  read.setId(id);
  read.setProperties(state);
  read.setInputs(checkedInputs);
  record("read", await unary(client, "read", read), (r) => ({ id: r.getId(), properties: fromStruct(r.getProperties()), inputs: fromStruct(r.getInputs()) }));

  const del = new providerPb.DeleteRequest();
  del.setUrn(URN);
  del.setType(TYPE);
  del.setId(id);
  del.setProperties(state);
  record("delete", await unary(client, "delete", del), () => ({ ok: true }));

  const unknown = new providerPb.CheckRequest();
  unknown.setUrn("urn:pulumi:wire::test::registryinfra:index:NoSuchThing::x");
  unknown.setType("registryinfra:index:NoSuchThing");
  unknown.setOlds(toStruct({}));
  unknown.setNews(toStruct({}));
  record("checkUnknownType", await unary(client, "check", unknown), () => ({ ok: true }));

  record("cancel", await unary(client, "cancel", new emptyPb.Empty()), () => ({ ok: true }));

  client.close();
  const exited = new Promise((resolve) => plugin.child.on("exit", (code, signal) => resolve({ code, signal })));
  const timer = setTimeout(() => plugin.child.kill("SIGKILL"), 10000);
  plugin.child.kill("SIGTERM");
  transcript.exit = await exited;
  clearTimeout(timer);
  transcript.engineLogs = logs;
  transcript.stderr = plugin.stderr();
  engine.forceShutdown();
  process.stdout.write(JSON.stringify(transcript) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
