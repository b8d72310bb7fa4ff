#!/usr/bin/env node
// A component provider on the official Node.js SDK (@pulumi/pulumi's provider.main), beside which the construct
// benchmark measures the RegistryInfra plugin: its Construct registers exactly the children that the plugin registered
// for one cluster, replayed from the plan that the benchmark's fake monitor wrote (REGISTRYINFRA_CONSTRUCT_PLAN): the
// same types, names (the component's name put in place of the planned one), parents, dependencies and inputs, through
// the same monitor. The SDK decides the rest as it does for any component: it registers a child once its parent and
// the resources it depends on have URNs.
"use strict";
const fs = require("node:fs");
const pulumi = require("@pulumi/pulumi");
const provider = require("@pulumi/pulumi/provider");

const planPath = process.env.REGISTRYINFRA_CONSTRUCT_PLAN;
if (!planPath) {
  console.error("construct-component: set REGISTRYINFRA_CONSTRUCT_PLAN to a plan written by the construct benchmark");
  process.exit(2);
}
const plan = JSON.parse(fs.readFileSync(planPath, "utf8"));
const planned = plan[0];

class Replay extends pulumi.ComponentResource {
  constructor(type, name, opts) {
    super(type, name, {}, opts);
    const resources = [this];
    for (const entry of plan.slice(1)) {
      const options = {
        parent: entry.parent >= 0 ? resources[entry.parent] : this,
        dependsOn: entry.dependencies.map((i) => resources[i]),
      };
      const childName = entry.name.split(planned.name).join(name);
      if (entry.custom) {
        resources.push(new pulumi.CustomResource(entry.type, childName, entry.inputs, options));
      } else {
        const component = new pulumi.ComponentResource(entry.type, childName, {}, options);
        component.registerOutputs({});
        resources.push(component);
      }
    }
    this.registerOutputs({});
  }
}

provider.main(
  {
    version: "0.1.0",
    async construct(name, type, _inputs, options) {
      const component = new Replay(type, name, options);
      return { urn: component.urn, state: {} };
    },
  },
  process.argv.slice(2),
);
