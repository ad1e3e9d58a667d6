#!/usr/bin/env node
// Produces signature fixtures for provgate with sigstore-js, an implementation
// provgate shares no code with: the DSSE pre-authentication encoding, the
// envelope and the Sigstore bundle come from @sigstore/sign's own
// DSSEBundleBuilder / MessageSignatureBundleBuilder (no witnesses: no
// transparency log, no timestamp authority, nothing leaves the machine), and
// every bundle is then checked with @sigstore/verify before it is written.
// The only code here that is not sigstore-js is the key-based Signer, which
// calls Node's crypto (sigstore-js ships no key-file signer).
//
// Usage: node make_fixtures.mjs <out-dir> <subject-sha256-hex> [docker-reference]
//
// Writes, for each key kind K in ecdsa-p256, ecdsa-p384-sha384,
// ecdsa-p384-sha256, ecdsa-p521-sha512, ed25519, rsa-2048-pkcs1v15,
// rsa-3072-pss, the directory <out-dir>/K/ holding:
//   key.pub                      SubjectPublicKeyInfo PEM of a fresh key
//   dsse.envelope.json           {"payloadType","payload","signatures":[{"keyid","sig"}]}
//                                taken from the bundle's dsseEnvelope
//   dsse.bundle.json             the whole Sigstore bundle (v0.3, publicKey hint)
//   statement.json               the in-toto Statement v1 bytes that were signed
//   simplesigning.payload.json   a cosign simple-signing payload naming the digest
//   simplesigning.sig.b64        base64 signature over it (the bundle's messageSignature)
//   simplesigning.bundle.json    the whole message-signature bundle
// Keys are fresh on every run; file names, statement and payload shapes are fixed.
// Prints the written paths, one per line; exits 1 with a message on failure.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import bundleLib from '@sigstore/bundle';
import signLib from '@sigstore/sign';
import verifyLib from '@sigstore/verify';

const { DSSEBundleBuilder, MessageSignatureBundleBuilder } = signLib;
const { bundleToJSON, bundleFromJSON } = bundleLib;
const { Verifier, toSignedEntity, toTrustMaterial } = verifyLib;

const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

// How each key kind is made and how it signs. `hash` is the digest Node's
// crypto.sign uses; ECDSA signatures are ASN.1 DER (Node's default encoding).
// `sigstoreJsVerifies` says, per bundle content, whether @sigstore/verify can
// check the result. It cannot everywhere: it verifies DSSE with the key's
// default digest (SHA-256 for every EC curve), message signatures with the
// bundle's digest algorithm (MessageSignatureBundleBuilder always records
// SHA2_256, which Node refuses for Ed25519), and RSA keys as PKCS#1 v1.5.
// Where it cannot, Node's crypto.verify with the kind's own hash checks instead.
const KEY_KINDS = [
  { name: 'ecdsa-p256', gen: ['ec', { namedCurve: 'P-256' }], hash: 'sha256', sigstoreJsVerifies: { dsse: true, message: true } },
  // The Sigstore algorithm registry's PKIX_ECDSA_P384_SHA_384: the hash follows the curve.
  { name: 'ecdsa-p384-sha384', gen: ['ec', { namedCurve: 'P-384' }], hash: 'sha384', sigstoreJsVerifies: { dsse: false, message: false } },
  // What sigstore-js's own verifier expects of a P-384 key.
  { name: 'ecdsa-p384-sha256', gen: ['ec', { namedCurve: 'P-384' }], hash: 'sha256', sigstoreJsVerifies: { dsse: true, message: true } },
  // PKIX_ECDSA_P521_SHA_512.
  { name: 'ecdsa-p521-sha512', gen: ['ec', { namedCurve: 'P-521' }], hash: 'sha512', sigstoreJsVerifies: { dsse: false, message: false } },
  { name: 'ed25519', gen: ['ed25519', {}], hash: null, sigstoreJsVerifies: { dsse: true, message: false } },
  {
    name: 'rsa-2048-pkcs1v15',
    gen: ['rsa', { modulusLength: 2048 }],
    hash: 'sha256',
    sigstoreJsVerifies: { dsse: true, message: true },
  },
  {
    name: 'rsa-3072-pss',
    gen: ['rsa', { modulusLength: 3072 }],
    hash: 'sha256',
    options: { padding: crypto.constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
    sigstoreJsVerifies: { dsse: false, message: false },
  },
];

function fail(message) {
  process.stderr.write(`make_fixtures: ${message}\n`);
  process.exit(1);
}

// A sigstore-js Signer backed by a local key pair. The hint (DSSE keyid and
// bundle publicKey.hint) is base64 SHA-256 of the SubjectPublicKeyInfo DER,
// the convention of sigstore-conformance's managed-key bundles.
function keySigner(kind, privateKey, publicKey) {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const hint = crypto.createHash('sha256').update(spki).digest('base64');
  const pem = publicKey.export({ type: 'spki', format: 'pem' });
  return {
    hint,
    spki,
    pem,
    signer: {
      async sign(data) {
        const key = kind.options ? { key: privateKey, ...kind.options } : privateKey;
        return {
          signature: crypto.sign(kind.hash, data, key),
          key: { $case: 'publicKey', publicKey: pem, hint },
        };
      },
    },
  };
}

// Checks a bundle with sigstore-js's verifier, trusting exactly `spki` under
// `hint` and requiring no log entries or timestamps (none were made); for
// kinds it cannot check, verifies `signature` over `signed` with Node's crypto.
function checkBundle(kind, content, bundleJson, hint, spki, signed, signature, artifact) {
  if (!kind.sigstoreJsVerifies[content]) {
    const key = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
    const k = kind.options ? { key, ...kind.options } : key;
    if (!crypto.verify(kind.hash, signed, k, signature)) fail(`${kind.name}: signature does not verify`);
    return;
  }
  const bundle = bundleFromJSON(bundleJson);
  const trust = toTrustMaterial(
    { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] },
    { [hint]: { rawBytes: spki } },
  );
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  verifier.verify(toSignedEntity(bundle, artifact));
}

function statementFor(subjectHex) {
  // Key order is fixed by construction; JSON.stringify keeps insertion order.
  return JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'model', digest: { sha256: subjectHex } }],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: {
      buildDefinition: {
        buildType: 'https://provgate.dev/test/sigstore-js/v1',
        externalParameters: { source: 'tests/tools/make_fixtures.mjs' },
      },
      runDetails: { builder: { id: 'https://github.com/sigstore/sigstore-js' } },
    },
  });
}

function simpleSigningPayloadFor(dockerReference, subjectHex) {
  // cosign's layout (Go struct order), "optional": null when there are no annotations.
  return JSON.stringify({
    critical: {
      identity: { 'docker-reference': dockerReference },
      image: { 'docker-manifest-digest': `sha256:${subjectHex}` },
      type: 'cosign container image signature',
    },
    optional: null,
  });
}

async function makeKind(kind, outDir, subjectHex, dockerReference) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync(...kind.gen);
  const { signer, hint, spki, pem } = keySigner(kind, privateKey, publicKey);
  const dir = path.join(outDir, kind.name);
  fs.mkdirSync(dir, { recursive: true });
  const written = [];
  const write = (name, data) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, data);
    written.push(p);
  };

  // DSSE over an in-toto statement: sigstore-js computes the PAE, calls the
  // signer on it, and assembles envelope and bundle.
  const statement = statementFor(subjectHex);
  const dsseBundle = await new DSSEBundleBuilder({ signer, witnesses: [] }).create({
    data: Buffer.from(statement, 'utf8'),
    type: IN_TOTO_PAYLOAD_TYPE,
  });
  const dsseJson = bundleToJSON(dsseBundle);
  const env = dsseJson.dsseEnvelope;
  if (!env || env.signatures.length !== 1) fail(`${kind.name}: bundle has no single-signature DSSE envelope`);
  if (Buffer.from(env.payload, 'base64').toString('utf8') !== statement) {
    fail(`${kind.name}: envelope payload differs from the statement`);
  }
  checkBundle(
    kind, 'dsse', dsseJson, hint, spki,
    Buffer.from(`DSSEv1 ${env.payloadType.length} ${env.payloadType} ${Buffer.byteLength(statement)} ${statement}`),
    Buffer.from(env.signatures[0].sig, 'base64'),
  );
  const envelope = {
    payloadType: env.payloadType,
    payload: env.payload,
    signatures: env.signatures.map((s) => ({ keyid: s.keyid, sig: s.sig })),
  };

  // Message signature over a cosign simple-signing payload: sigstore-js hands
  // the raw payload to the signer and records SHA-256 of it in the bundle.
  const payload = simpleSigningPayloadFor(dockerReference, subjectHex);
  const msgBundle = await new MessageSignatureBundleBuilder({ signer, witnesses: [] }).create({
    data: Buffer.from(payload, 'utf8'),
  });
  const msgJson = bundleToJSON(msgBundle);
  if (!msgJson.messageSignature) fail(`${kind.name}: bundle has no messageSignature`);
  checkBundle(
    kind, 'message', msgJson, hint, spki, Buffer.from(payload, 'utf8'),
    Buffer.from(msgJson.messageSignature.signature, 'base64'), Buffer.from(payload, 'utf8'),
  );

  write('key.pub', pem);
  write('statement.json', statement);
  write('dsse.envelope.json', JSON.stringify(envelope));
  write('dsse.bundle.json', JSON.stringify(dsseJson));
  write('simplesigning.payload.json', payload);
  write('simplesigning.sig.b64', msgJson.messageSignature.signature);
  write('simplesigning.bundle.json', JSON.stringify(msgJson));
  return written;
}

async function main() {
  const [outDir, subjectHex, dockerReference = 'registry.example/models/provgate-fixture'] =
    process.argv.slice(2);
  if (!outDir || !subjectHex) fail('usage: node make_fixtures.mjs <out-dir> <subject-sha256-hex> [docker-reference]');
  if (!/^[0-9a-f]{64}$/.test(subjectHex)) fail(`subject digest must be 64 lowercase hex characters, got "${subjectHex}"`);
  fs.mkdirSync(outDir, { recursive: true });
  const written = [];
  for (const kind of KEY_KINDS) {
    written.push(...(await makeKind(kind, outDir, subjectHex, dockerReference)));
  }
  process.stdout.write(written.join('\n') + '\n');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
