#!/usr/bin/env node
// The smallest provider built on the official Node.js SDK (@pulumi/pulumi's provider.main): the baseline
// that the start-up benchmark compares the RegistryInfra plugin with. It serves the same protocol and
// answers GetPluginInfo and GetSchema.
"use strict";
const provider = require("@pulumi/pulumi/provider");

provider.main(
  {
    version: "0.1.0",
    schema: JSON.stringify({ name: "baseline", version: "0.1.0", resources: {}, functions: {} }),
  },
  process.argv.slice(2),
);
