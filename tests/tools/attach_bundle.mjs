#!/usr/bin/env node
// Attaches Sigstore bundles to an image in a registry the way cosign v3 and
// sigstore-js do, using sigstore-js's own code: DSSEBundleBuilder makes each
// bundle (no witnesses: nothing leaves the machine) and @sigstore/oci's
// attachArtifactToImage pushes it as an OCI 1.1 referrer (falling back to the
// sha256-<hex> referrers tag when the registry has no referrers API, as
// docker-registry 2.8 has not). The key-based Signer is the only code here
// that is not sigstore-js.
//
// Usage: node attach_bundle.mjs <registry-host:port> <repository> <sha256:digest> <out-dir> [mode]
//   mode "sign"   (default): a cosign-v3-style signature bundle (statement of
//                  predicateType https://sigstore.dev/cosign/sign/v1) and an
//                  SLSA provenance v1 attestation bundle, both over <digest>.
//   mode "other-subject": one signature bundle whose statement names another
//                  digest, attached to <digest> (must not verify as its signature).
// Writes <out-dir>/key.pub (the signer's public key) and prints the
// descriptors pushed. Exits 1 with a message on failure.
//
// Usage: node attach_bundle.mjs attach <registry-host:port> <repository> <sha256:digest> <bundle.json>
//   attaches an existing bundle file (e.g. from make_keyless_fixtures.mjs)
//   byte for byte, as the referrer's layer, with the bundle's own mediaType
//   as artifactType and cosign's annotations dev.sigstore.bundle.content
//   (dsse-envelope | message-signature) and, for an in-toto DSSE payload,
//   dev.sigstore.bundle.predicateType. Prints the descriptor pushed.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import bundleLib from '@sigstore/bundle';
import signLib from '@sigstore/sign';
import ociLib from '@sigstore/oci';

const { DSSEBundleBuilder } = signLib;
const { bundleToJSON } = bundleLib;
const { attachArtifactToImage } = ociLib;

const fileMode = process.argv[2] === 'attach';
const [host, repository, digest, target, mode = 'sign'] = process.argv.slice(fileMode ? 3 : 2);
if (!host || !repository || !/^sha256:[0-9a-f]{64}$/.test(digest || '') || !target || (fileMode && process.argv.length > 7)) {
  console.error('usage: attach_bundle.mjs <host:port> <repository> <sha256:digest> <out-dir> [sign|other-subject]\n' +
                '       attach_bundle.mjs attach <host:port> <repository> <sha256:digest> <bundle.json>');
  process.exit(1);
}
const outDir = target;

const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = publicKey.export({ type: 'spki', format: 'pem' });
const hint = crypto.createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
const signer = {
  async sign(data) {
    return { signature: crypto.sign('sha256', data, privateKey), key: { $case: 'publicKey', publicKey: pem, hint } };
  },
};

function statement(subjectDigest, predicateType, predicate) {
  return Buffer.from(JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: `${host}/${repository}`, digest: { sha256: subjectDigest.slice('sha256:'.length) } }],
    predicateType,
    predicate,
  }));
}

async function push(artifact, mediaType, annotations) {
  const desc = await attachArtifactToImage({
    imageName: `${host}/${repository}`,
    imageDigest: digest,
    artifact,
    mediaType,
    annotations,
    credentials: undefined,  // an anonymous registry: signIn would demand an auth challenge
  });
  console.log(JSON.stringify(desc));
}

// Attaches the bundle file at `file` unchanged.
async function attachFile(file) {
  const bytes = fs.readFileSync(file);
  const json = JSON.parse(bytes.toString('utf8'));
  if (typeof json.mediaType !== 'string' || !json.mediaType.startsWith('application/vnd.dev.sigstore.bundle')) {
    throw new Error(`${file}: not a Sigstore bundle (mediaType ${json.mediaType})`);
  }
  const annotations = {};
  if (json.dsseEnvelope) {
    annotations['dev.sigstore.bundle.content'] = 'dsse-envelope';
    if (json.dsseEnvelope.payloadType === 'application/vnd.in-toto+json') {
      const statement = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
      if (typeof statement.predicateType === 'string') {
        annotations['dev.sigstore.bundle.predicateType'] = statement.predicateType;
      }
    }
  } else if (json.messageSignature) {
    annotations['dev.sigstore.bundle.content'] = 'message-signature';
  } else {
    throw new Error(`${file}: bundle has neither dsseEnvelope nor messageSignature`);
  }
  await push(bytes, json.mediaType, annotations);
}

async function attach(payload) {
  const bundle = await new DSSEBundleBuilder({ signer, witnesses: [] }).create({
    data: payload,
    type: 'application/vnd.in-toto+json',
  });
  const json = bundleToJSON(bundle);
  await push(Buffer.from(JSON.stringify(json)), json.mediaType, { 'dev.sigstore.bundle.content': 'dsse-envelope' });
}

// The key-based modes: bundles signed here over statements about <digest>.
async function attachSigned() {
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'key.pub'), pem);
  if (mode === 'sign') {
    await attach(statement(digest, 'https://sigstore.dev/cosign/sign/v1', {}));
    await attach(statement(digest, 'https://slsa.dev/provenance/v1', {
      buildDefinition: { buildType: 'https://tekton.dev/chains/v2/slsa', externalParameters: { runSpec: 'train' } },
      runDetails: { builder: { id: 'https://tekton.dev/chains/v2' } },
    }));
  } else if (mode === 'other-subject') {
    const other = 'sha256:' + crypto.createHash('sha256').update('another artifact').digest('hex');
    await attach(statement(other, 'https://sigstore.dev/cosign/sign/v1', {}));
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

try {
  if (fileMode) {
    await attachFile(target);
  } else {
    await attachSigned();
  }
} catch (e) {
  console.error(`attach_bundle: ${e.stack || e}${e.cause ? "\ncause: " + (e.cause.stack || e.cause) : ""}`);
  process.exit(1);
}
