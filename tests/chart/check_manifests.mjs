// Checks for tests/chart/chart_test.sh, run from the directory where
// tests/chart/tools is installed (node resolves the packages next to this file).
//
//   node check_manifests.mjs validate RENDERED.yaml
//     Every document must be a kind the chart is expected to render and pass
//     that kind's OpenAPI schema (kubernetes-models: types, enums, required
//     fields; unknown fields are NOT reported by these schemas).
//
//   node check_manifests.mjs cel RENDERED.yaml OBJECTS.yaml CHECK.json MODE
//     Evaluates the matchConditions of every webhook configuration in
//     RENDERED (all must hold, as the API server does) on each object of
//     OBJECTS, as a CREATE of that object, and compares the result with the
//     references `provgate check -o json` (CHECK.json) found in it:
//       MODE default:      sent  <=> InferenceService or any reference
//       MODE no-container: sent  <=> InferenceService or a reference whose
//                                    source is not `container`
//     An object not sent although it holds a candidate is a fail-open bug.
//     Objects named *-superset are ones the conditions knowingly send without
//     a reference (a non-OCI model annotation, an InferenceService without
//     an OCI URI): for them "sent" is required. A CEL error is a failure too:
//     the API server would apply failurePolicy to the object.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { run, isCelError } from "@bufbuild/cel";

const MODELS = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "policy/v1": "kubernetes-models/policy/v1",
  "autoscaling/v2": "kubernetes-models/autoscaling/v2",
  "networking.k8s.io/v1": "kubernetes-models/networking.k8s.io/v1",
  "admissionregistration.k8s.io/v1": "kubernetes-models/admissionregistration.k8s.io/v1",
  "cert-manager.io/v1": "@kubernetes-models/cert-manager/cert-manager.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

function load(file) {
  const docs = [];
  for (const d of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (d.errors.length) throw new Error(`${file}: ${d.errors.map((e) => e.message).join("; ")}`);
    const v = d.toJS({ maxAliasCount: 0 });
    if (v !== null && v !== undefined) docs.push(v);
  }
  return docs;
}

async function validate(file) {
  let bad = 0;
  const docs = load(file);
  if (docs.length === 0) throw new Error(`${file}: no documents`);
  for (const doc of docs) {
    const what = `${doc.kind}/${doc.metadata?.name}`;
    const mod = MODELS[doc.apiVersion];
    const Cls = mod && (await import(mod))[doc.kind];
    if (!Cls) { console.log(`FAIL ${what}: no model for ${doc.apiVersion} ${doc.kind}`); bad++; continue; }
    try {
      new Cls(doc).validate();
      console.log(`ok   ${doc.apiVersion} ${what}`);
    } catch (e) {
      console.log(`FAIL ${what}: ${e.message}`); bad++;
    }
  }
  return bad;
}

function conditionsOf(rendered) {
  const sets = [];
  for (const doc of load(rendered)) {
    if (!/^(Validating|Mutating)WebhookConfiguration$/.test(doc.kind)) continue;
    for (const w of doc.webhooks) {
      if (!w.matchConditions || w.matchConditions.length === 0) throw new Error(`${doc.kind} ${w.name} has no matchConditions`);
      if (w.rules.some((r) => r.operations.includes("DELETE") || r.operations.includes("*"))) throw new Error(`${doc.kind} ${w.name} is sent DELETE`);
      sets.push({ where: `${doc.kind} ${w.name}`, conditions: w.matchConditions });
    }
  }
  if (sets.length === 0) throw new Error(`${rendered}: no webhook configuration`);
  return sets;
}

function cel(rendered, objectsFile, checkFile, mode) {
  const sets = conditionsOf(rendered);
  const objects = load(objectsFile);
  const checked = JSON.parse(readFileSync(checkFile, "utf8")).objects;
  let bad = 0;
  for (const obj of objects) {
    const key = `${obj.kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    const found = checked.filter((o) => o.kind === obj.kind && o.name === obj.metadata.name && (o.namespace ?? "") === (obj.metadata.namespace ?? ""));
    if (found.length !== 1) { console.log(`FAIL ${key}: provgate check reported it ${found.length} times`); bad++; continue; }
    const refs = found[0].references ?? [];
    const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
    const isvc = group === "serving.kserve.io";
    const candidate = isvc || refs.some((r) => mode === "default" || r.source !== "container");
    const superset = obj.metadata.name.endsWith("-superset");
    const request = {
      operation: "CREATE",
      kind: { group, version, kind: obj.kind },
      resource: { group, version, resource: obj.kind.toLowerCase() + "s" },
      namespace: obj.metadata.namespace ?? "default",
      name: obj.metadata.name,
    };
    for (const { where, conditions } of sets) {
      let sent = true;
      for (const c of conditions) {
        const r = run(c.expression, { object: obj, oldObject: null, request });
        if (isCelError(r)) { console.log(`FAIL ${key}: ${where} condition ${c.name}: CEL error ${r.message}`); bad++; sent = null; break; }
        if (r !== true) { sent = false; break; }
      }
      if (sent === null) continue;
      const want = candidate || superset;
      const sources = [...new Set(refs.map((r) => r.source))].join(",") || "none";
      const line = `${key} [references: ${sources}] ${where}: ${sent ? "sent" : "skipped"}`;
      if (sent === want) { console.log(`ok   ${line}`); continue; }
      console.log(`FAIL ${line}: ${want ? "holds a candidate reference and would never be checked (fail open)" : "holds no candidate reference and is still sent"}`);
      bad++;
    }
  }
  return bad;
}

const [cmd, ...args] = process.argv.slice(2);
let bad;
try {
  if (cmd === "validate") bad = await validate(args[0]);
  else if (cmd === "cel") bad = cel(args[0], args[1], args[2], args[3]);
  else { console.error("usage: check_manifests.mjs validate FILE | cel RENDERED OBJECTS CHECK_JSON default|no-container"); process.exit(2); }
} catch (e) {
  console.log(`FAIL ${e.message}`);
  process.exit(1);
}
process.exit(bad ? 1 : 0);
