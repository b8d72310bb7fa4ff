// Checks the children that RegistryInfra's components register against the providers' own definitions, code
// this team did not write:
//   - the official SDKs @pulumi/kubernetes, @pulumi/aws, @pulumi/gcp and @pulumi/azure-native: each child's type token must be a
//     resource class of the package (its `__pulumiType`), and its inputs must fit that class's `<Class>Args`
//     interface as the TypeScript compiler reads it from the SDK's .d.ts: no property the interface does not
//     declare, every required property present, and nested values of the declared types (strings, numbers,
//     booleans, string literals, arrays, maps, nested input types), at any depth;
//   - every Kubernetes object also against the Kubernetes OpenAPI JSON schema of its kind, as compiled by ajv in
//     the package kubernetes-models (required fields, types, formats, enums);
//   - a child of this package (registryinfra:kubernetes:PullSecretAttachment) against the package schema the plugin serves
//     (schema/schema.json, which SchemaTests keep equal to the code): inputs it declares, required inputs present, types.
// An unknown value (a preview's computed input) fits any type.
//
// usage: node child-check.js DUMP.json
//   DUMP.json: [{ "mode", "preview", "type", "name", "inputs" }], unknowns as {"__unknown": true}, secrets unwrapped.
// Prints a JSON report { checked: { MODE: N }, children, problems: [{ mode, child, path, message }] } and exits 1
// when there is a problem.
"use strict";

const fs = require("fs");
const path = require("path");
const ts = require("typescript");

const SDKS = { kubernetes: "@pulumi/kubernetes", aws: "@pulumi/aws", gcp: "@pulumi/gcp", "azure-native": "@pulumi/azure-native" };

// @pulumi/azure-native (136 MB, some 16,700 files) keeps each module's resources in the folder named by the token's
// module (azure-native:managedidentity:UserAssignedIdentity in managedidentity/): only that folder is read.
const MODULE_FOLDERS = new Set(["azure-native"]);

const isUnknown = (v) => v !== null && typeof v === "object" && !Array.isArray(v) && v.__unknown === true;

// --- type tokens: every `static __pulumiType = '...'` of a package's resource classes --------------------------

const tokenIndexes = new Map();

function tokenIndex(pkg, token) {
  const folder = MODULE_FOLDERS.has(pkg) ? token.split(":")[1] : "";
  const key = `${pkg}/${folder}`;
  if (tokenIndexes.has(key)) {
    return tokenIndexes.get(key);
  }
  const base = path.dirname(require.resolve(`${SDKS[pkg]}/package.json`));
  const root = path.join(base, folder);
  if (folder && (folder.includes("..") || folder.includes("/") || !fs.existsSync(root))) {
    tokenIndexes.set(key, new Map());
    return tokenIndexes.get(key);
  }
  const index = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && entry.name !== "types") {
          walk(full);
        }
      } else if (entry.name.endsWith(".js")) {
        const text = fs.readFileSync(full, "utf8");
        const re = /class (\w+) extends pulumi\.CustomResource[\s\S]*?static __pulumiType = '([^']+)'/g;
        for (let m = re.exec(text); m; m = re.exec(text)) {
          index.set(m[2], { className: m[1], dts: full.replace(/\.js$/, ".d.ts") });
        }
      }
    }
  };
  walk(root);
  tokenIndexes.set(key, index);
  return index;
}

// --- Args interfaces, read with the TypeScript compiler ------------------------------------------------------

function argsInterfaces(entries) {
  const files = [...new Set(entries.map((e) => e.dts))];
  const program = ts.createProgram(files, {
    noEmit: true, skipLibCheck: true, types: [], target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10,
  });
  const checker = program.getTypeChecker();
  const result = new Map();
  for (const entry of entries) {
    const source = program.getSourceFile(entry.dts);
    const declaration = source && source.statements.find((s) => ts.isInterfaceDeclaration(s) && s.name.text === `${entry.className}Args`);
    result.set(entry.dts + "#" + entry.className, declaration ? checker.getTypeAtLocation(declaration.name) : null);
  }
  return { checker, result };
}

// Input<T> is T | Promise<T> | OutputInstance<T>; what a value must fit is T.
function plainConstituents(checker, type) {
  const parts = type.isUnion() ? type.types : [type];
  const out = [];
  for (const part of parts) {
    if (part.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void)) {
      continue;
    }
    const symbol = part.getSymbol() || part.aliasSymbol;
    const name = symbol ? symbol.getName() : "";
    if (name === "Promise" || name === "OutputInstance" || name === "Output" || name === "Unwrap") {
      continue;
    }
    if (part.isUnion()) {
      out.push(...plainConstituents(checker, part));
    } else {
      out.push(part);
    }
  }
  return out;
}

const kindOf = (v) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

function checkValue(checker, type, value, at, problems) {
  if (isUnknown(value) || value === null) {
    return;
  }
  const parts = plainConstituents(checker, type);
  const shown = checker.typeToString(type);
  if (parts.some((p) => p.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown))) {
    // A declared `any` accepts anything; an `any` from a reference the compiler could not resolve would make the
    // check vacuous, so it is a problem of the check itself.
    if (shown !== "any" && shown !== "unknown") {
      problems.push({ path: at, message: `the type ${shown} did not resolve (is the SDK installed whole?)` });
    }
    return;
  }
  const kind = kindOf(value);
  if (kind === "string" || kind === "number" || kind === "boolean") {
    const literals = parts.filter((p) => p.isLiteral() || (p.flags & ts.TypeFlags.BooleanLiteral));
    const wide = parts.some((p) =>
      (kind === "string" && p.flags & ts.TypeFlags.String) ||
      (kind === "number" && p.flags & ts.TypeFlags.Number) ||
      (kind === "boolean" && p.flags & ts.TypeFlags.Boolean));
    if (wide) {
      return;
    }
    const fits = literals.some((p) =>
      (p.isLiteral() && p.value === value) ||
      (kind === "boolean" && p.flags & ts.TypeFlags.BooleanLiteral && checker.typeToString(p) === String(value)));
    if (!fits) {
      problems.push({ path: at, message: `${JSON.stringify(value)} is not a ${shown}` });
    }
    return;
  }
  if (kind === "array") {
    const array = parts.find((p) => checker.isArrayType(p) || checker.isTupleType(p));
    if (!array) {
      problems.push({ path: at, message: `an array is not a ${shown}` });
      return;
    }
    const element = checker.getTypeArguments(array)[0];
    value.forEach((item, i) => checkValue(checker, element, item, `${at}[${i}]`, problems));
    return;
  }
  // An object: a map (string index signature) or a nested input type (named properties).
  const objects = parts.filter((p) => p.flags & ts.TypeFlags.Object && !checker.isArrayType(p) && !checker.isTupleType(p));
  if (objects.length === 0) {
    problems.push({ path: at, message: `an object is not a ${shown}` });
    return;
  }
  const map = objects.find((p) => p.getStringIndexType());
  if (map && map.getProperties().length === 0) {
    for (const [key, item] of Object.entries(value)) {
      checkValue(checker, map.getStringIndexType(), item, `${at}[${JSON.stringify(key)}]`, problems);
    }
    return;
  }
  checkObject(checker, objects[0], value, at, problems);
}

function checkObject(checker, type, value, at, problems) {
  const shown = checker.typeToString(type);
  const declared = new Map(type.getProperties().map((p) => [p.getName(), p]));
  for (const [key, item] of Object.entries(value)) {
    const property = declared.get(key);
    const where = at ? `${at}.${key}` : key;
    if (!property) {
      problems.push({ path: where, message: `'${key}' is not a property of ${shown}` });
      continue;
    }
    checkValue(checker, checker.getTypeOfSymbol(property), item, where, problems);
  }
  for (const [key, property] of declared) {
    if (!(property.flags & ts.SymbolFlags.Optional) && !(key in value)) {
      problems.push({ path: at ? `${at}.${key}` : key, message: `required property '${key}' of ${shown} is missing` });
    }
  }
}

// --- Kubernetes objects against the OpenAPI schema of their kind -------------------------------------------

async function kubernetesValidator(token) {
  // kubernetes:GROUP/VERSION:KIND, the core group as "core"; kubernetes-models names a schema IoK8sApi<Group><Version><Kind>.
  const [, groupVersion, kind] = token.split(":");
  const [group, version] = groupVersion.split("/");
  const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  const file = path.join(path.dirname(require.resolve("kubernetes-models/package.json")), "_schemas",
    `IoK8sApi${cap(group.split(".")[0])}${cap(version)}${kind}.js`);
  if (!fs.existsSync(file)) {
    return { missing: path.basename(file) };
  }
  const module = await import(file);
  return {
    validate: module.validate,
    apiVersion: group === "core" ? version : `${group}/${version}`,
    kind,
  };
}

function unknownPaths(value, at, out) {
  if (isUnknown(value)) {
    out.push(at);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => unknownPaths(v, `${at}/${i}`, out));
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      unknownPaths(v, `${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, out);
    }
  }
  return out;
}

async function checkKubernetes(child, problems) {
  const validator = await kubernetesValidator(child.type);
  if (validator.missing) {
    problems.push({ path: "", message: `no Kubernetes schema for ${child.type} (${validator.missing})` });
    return;
  }
  const object = { apiVersion: validator.apiVersion, kind: validator.kind, ...child.inputs };
  if (validator.validate(object)) {
    return;
  }
  // An error at or under an unknown value is the preview's, not the object's.
  const unknowns = unknownPaths(object, "", []);
  for (const error of validator.validate.errors) {
    if (unknowns.some((u) => error.instancePath === u || error.instancePath.startsWith(u + "/"))) {
      continue;
    }
    const detail = error.params && error.params.missingProperty ? ` '${error.params.missingProperty}'` : "";
    problems.push({ path: error.instancePath || "/", message: `Kubernetes ${validator.kind} schema: ${error.keyword}${detail} (${error.schemaPath})` });
  }
}

// --- this package's own resources: against the package schema the plugin serves (schema/schema.json) ------------

let ownSchema = null;

function checkSchemaValue(spec, value, at, problems) {
  if (isUnknown(value) || value === null || value === undefined) {
    return;
  }
  if (spec.$ref) {
    const name = decodeURIComponent(spec.$ref.replace(/^#\/types\//, ""));
    const type = ownSchema.types[name];
    if (!type) {
      problems.push({ path: at, message: `the schema has no type ${spec.$ref}` });
    } else if (type.enum) {
      if (!type.enum.some((e) => e.value === value)) {
        problems.push({ path: at, message: `${JSON.stringify(value)} is not a value of ${name}` });
      }
    } else {
      checkSchemaObject(type, value, at, problems);
    }
    return;
  }
  const kinds = { string: "string", boolean: "boolean", number: "number", integer: "number" };
  if (kinds[spec.type]) {
    if (typeof value !== kinds[spec.type]) {
      problems.push({ path: at, message: `${JSON.stringify(value)} is not a ${spec.type}` });
    }
  } else if (spec.type === "array") {
    if (!Array.isArray(value)) {
      problems.push({ path: at, message: `not an array` });
    } else {
      value.forEach((v, i) => checkSchemaValue(spec.items, v, `${at}[${i}]`, problems));
    }
  } else if (spec.type === "object") {
    if (typeof value !== "object" || Array.isArray(value)) {
      problems.push({ path: at, message: `not an object` });
    } else if (spec.additionalProperties) {
      for (const [k, v] of Object.entries(value)) {
        checkSchemaValue(spec.additionalProperties, v, `${at}.${k}`, problems);
      }
    }
  }
}

function checkSchemaObject(type, value, at, problems) {
  const properties = type.inputProperties || type.properties || {};
  const required = type.requiredInputs || type.required || [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    problems.push({ path: at, message: `not an object` });
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const where = at ? `${at}.${key}` : key;
    if (!properties[key]) {
      problems.push({ path: where, message: `'${key}' is not an input of the schema` });
    } else {
      checkSchemaValue(properties[key], v, where, problems);
    }
  }
  for (const key of required) {
    if (!(key in value)) {
      problems.push({ path: at ? `${at}.${key}` : key, message: `required input '${key}' is missing` });
    }
  }
}

function checkOwn(child, problems) {
  ownSchema = ownSchema || JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "schema", "schema.json"), "utf8"));
  const resource = ownSchema.resources[child.type];
  if (!resource || resource.isComponent) {
    problems.push({ path: "", message: `the package schema has no custom resource ${child.type}` });
    return;
  }
  checkSchemaObject(resource, child.inputs, "", problems);
}

async function main() {
  const dumpPath = process.argv[2];
  if (!dumpPath) {
    console.error("usage: node child-check.js DUMP.json");
    process.exit(2);
  }
  const children = JSON.parse(fs.readFileSync(dumpPath, "utf8"));
  const problems = [];
  const checked = {};
  const located = [];
  for (const child of children) {
    const where = { mode: child.mode + (child.preview ? " (preview)" : ""), child: `${child.type} ${child.name}` };
    const pkg = child.type.split(":")[0];
    if (pkg === "registryinfra") {
      const own = [];
      checkOwn(child, own);
      problems.push(...own.map((p) => ({ ...where, ...p })));
      checked[child.mode] = (checked[child.mode] || 0) + 1;
      continue;
    }
    if (!SDKS[pkg]) {
      problems.push({ ...where, path: "", message: `no SDK is checked for package '${pkg}'` });
      continue;
    }
    const entry = tokenIndex(pkg, child.type).get(child.type);
    if (!entry) {
      problems.push({ ...where, path: "", message: `${SDKS[pkg]} has no resource with type token ${child.type}` });
      continue;
    }
    located.push({ child, where, entry });
  }
  const { checker, result } = argsInterfaces(located.map((l) => l.entry));
  for (const { child, where, entry } of located) {
    const own = [];
    const args = result.get(entry.dts + "#" + entry.className);
    if (!args) {
      own.push({ path: "", message: `${path.basename(entry.dts)} declares no ${entry.className}Args` });
    } else {
      checkObject(checker, args, child.inputs, "", own);
    }
    if (child.type.startsWith("kubernetes:")) {
      await checkKubernetes(child, own);
    }
    problems.push(...own.map((p) => ({ ...where, ...p })));
    checked[child.mode] = (checked[child.mode] || 0) + 1;
  }
  const versions = Object.fromEntries(Object.values(SDKS).concat(["kubernetes-models", "typescript"])
    .map((p) => [p, require(`${p}/package.json`).version]));
  process.stdout.write(JSON.stringify({ versions, children: children.length, checked, problems }, null, 2) + "\n");
  process.exit(problems.length === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(2);
});
