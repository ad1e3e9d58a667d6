#!/usr/bin/env node
// Produces KEYLESS Sigstore bundles for provgate's tests with sigstore-js,
// entirely offline. @sigstore/mock supplies a Fulcio CA (with a CT log that
// embeds an SCT in every leaf), a Rekor v1 log and an RFC 3161 timestamp
// authority, each with fresh keys; nock intercepts every HTTP request
// @sigstore/sign makes to them, and all other network access is disabled.
// @sigstore/sign's FulcioSigner (ephemeral P-256 key, certificate from the mock
// Fulcio for an identity token minted here), RekorWitness and TSAWitness build
// the bundles; each bundle is then verified with @sigstore/verify against the
// trusted_root.json written here, with the identity policy, before it is written.
//
// Usage: node make_keyless_fixtures.mjs <out-dir> <subject-sha256-hex> [--issuer URL] [--subject SAN]
//   --issuer   OIDC issuer recorded in the certificate (Fulcio OIDs 1.3.6.1.4.1.57264.1.1 and .1.8);
//              default https://token.actions.githubusercontent.com
//   --subject  the certificate's URI SAN; default
//              https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main
//
// Writes into <out-dir>:
//   trusted_root.json          Fulcio CA, CT log, Rekor log and TSA of this run (trustedroot v0.2)
//   identity.json              {"issuer","subject"} as read back from the certificates
//   provenance.bundle.json     v0.3, DSSE over an in-toto Statement v1, SLSA provenance v1 predicate
//   sign.bundle.json           v0.3, DSSE, predicateType https://sigstore.dev/cosign/sign/v1, {} predicate
//   message.bin                the bytes signed by the two message bundles
//   message.bundle.json        message signature as sigstore-js writes it: v0.2 with x509CertificateChain
//   message.v03.bundle.json    the same signature and witnesses repackaged as v0.3 (single certificate)
//   model/{config.json,tokenizer.json,weights.bin}   a tiny model directory
//   oms.bundle.json            v0.3, DSSE, OpenSSF model-signing v1.0 statement over model/
// Every bundle has one Rekor entry (inclusion promise, inclusion proof and checkpoint),
// an embedded SCT in its certificate and one RFC 3161 timestamp.
// Keys, certificates, log indexes and times are fresh on every run.
// Prints the written paths, one per line; exits 1 with a message on failure.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import nock from 'nock';
import mockLib from '@sigstore/mock';
import bundleLib from '@sigstore/bundle';
import signLib from '@sigstore/sign';
import verifyLib from '@sigstore/verify';
import protobufSpecs from '@sigstore/protobuf-specs';

const { initializeCA, initializeCTLog, initializeTLog, initializeTSA, fulcioHandler, rekorHandler, tsaHandler } = mockLib;
const { bundleToJSON, bundleFromJSON } = bundleLib;
const { DSSEBundleBuilder, MessageSignatureBundleBuilder, FulcioSigner, RekorWitness, TSAWitness } = signLib;
const { Verifier, toSignedEntity, toTrustMaterial } = verifyLib;
const { TrustedRoot } = protobufSpecs;

// Nothing may leave the machine: any request nock does not intercept fails.
nock.disableNetConnect();

const DEFAULT_ISSUER = 'https://token.actions.githubusercontent.com';
const DEFAULT_SUBJECT = 'https://github.com/acme/models/.github/workflows/release.yml@refs/heads/main';

// Where the mock services "live". .test is reserved (RFC 6761) and never
// resolves, so a request that escaped nock could not reach anything.
const URLS = {
  fulcio: 'https://fulcio.sigstore-mock.test',
  ctlog: 'https://ctfe.sigstore-mock.test',
  rekor: 'https://rekor.sigstore-mock.test',
  tsa: 'https://tsa.sigstore-mock.test',
};

const IN_TOTO = 'application/vnd.in-toto+json';
const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';
const COSIGN_SIGN_V1 = 'https://sigstore.dev/cosign/sign/v1';
const MODEL_SIGNING_V1 = 'https://model_signing/signature/v1.0';
const BUNDLE_V03 = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const BUNDLE_V02 = 'application/vnd.dev.sigstore.bundle+json;version=0.2';

function fail(message) {
  process.stderr.write(`make_keyless_fixtures: ${message}\n`);
  process.exit(1);
}

const sha256 = (data) => crypto.createHash('sha256').update(data).digest();
const b64 = (buf) => Buffer.from(buf).toString('base64');

function parseArgs(argv) {
  const usage = 'usage: node make_keyless_fixtures.mjs <out-dir> <subject-sha256-hex> [--issuer URL] [--subject SAN]';
  const positional = [];
  const opts = { issuer: DEFAULT_ISSUER, subject: DEFAULT_SUBJECT };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--issuer' || a === '--subject') {
      if (i + 1 >= argv.length) fail(`${a} needs a value\n${usage}`);
      opts[a.slice(2)] = argv[++i];
    } else if (a.startsWith('--')) {
      fail(`unknown option ${a}\n${usage}`);
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 2) fail(usage);
  const [outDir, subjectHex] = positional;
  if (!/^[0-9a-f]{64}$/.test(subjectHex)) fail(`subject digest must be 64 lowercase hex characters, got "${subjectHex}"`);
  // The mock Fulcio always issues a URI SAN (x509 GeneralName type "url"),
  // so an e-mail identity cannot be represented faithfully.
  try {
    new URL(opts.subject);
  } catch {
    fail(`--subject must be an absolute URI (@sigstore/mock issues URI SANs only), got "${opts.subject}"`);
  }
  try {
    new URL(opts.issuer);
  } catch {
    fail(`--issuer must be a URL, got "${opts.issuer}"`);
  }
  return { outDir, subjectHex, ...opts };
}

// ---------------------------------------------------------------------------
// The identity token. The mock Fulcio decodes the JWT without checking its
// signature, takes the SAN from the "sub" claim and turns known GitHub Actions
// claims into Fulcio certificate extensions; FulcioSigner signs "sub" as the
// proof of possession. The token is nevertheless a well-formed ES256 JWS.

function githubClaims(subject) {
  // https://github.com/OWNER/REPO/PATH@REF, the shape of a GitHub workflow identity.
  const m = /^https:\/\/github\.com\/([^/]+)\/([^/]+)\/(.+)@(refs\/.+)$/.exec(subject);
  if (!m) return {};
  const [, owner, repo, workflowPath, ref] = m;
  const commit = sha256(`provgate keyless fixture ${owner}/${repo}`).toString('hex').slice(0, 40);
  const workflowRef = `${owner}/${repo}/${workflowPath}@${ref}`;
  return {
    repository: `${owner}/${repo}`,
    repository_owner: owner,
    repository_id: '100000001',
    repository_owner_id: '100000000',
    repository_visibility: 'public',
    ref,
    sha: commit,
    event_name: 'push',
    workflow: path.posix.basename(workflowPath).replace(/\.ya?ml$/, ''),
    workflow_ref: workflowRef,
    workflow_sha: commit,
    job_workflow_ref: workflowRef,
    job_workflow_sha: commit,
    runner_environment: 'github-hosted',
    run_id: '7000000001',
    run_attempt: '1',
  };
}

function mintIdentityToken(issuer, subject) {
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    iss: issuer,
    sub: subject,
    aud: 'sigstore',
    iat: now,
    nbf: now,
    exp: now + 600,
    ...(issuer === DEFAULT_ISSUER ? githubClaims(subject) : {}),
  };
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const enc = (obj) => Buffer.from(JSON.stringify(obj)).toString('base64url');
  const signingInput = `${enc({ alg: 'ES256', typ: 'JWT', kid: 'provgate-keyless-fixtures' })}.${enc(claims)}`;
  const sig = crypto.sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${sig.toString('base64url')}`;
}

// ---------------------------------------------------------------------------
// The mock services.

// Rekor v1 stores a "dsse" entry not as proposed but reduced to
// {envelopeHash, payloadHash, signatures[{signature, verifier}]}; the mock log
// would record the proposed entry ({proposedContent: {envelope, verifiers}})
// as the body, which no verifier accepts. This does Rekor's reduction before
// handing the entry to the mock log; hashedrekord entries are stored as
// proposed by Rekor too and pass through unchanged.
function asRekorStoresIt(proposed) {
  if (proposed.kind === 'hashedrekord' && proposed.apiVersion === '0.0.1') return proposed;
  if (proposed.kind === 'dsse' && proposed.apiVersion === '0.0.1') {
    const { envelope, verifiers } = proposed.spec.proposedContent;
    const env = JSON.parse(envelope);
    if (env.signatures.length !== 1 || verifiers.length !== 1) {
      throw new Error('expected one DSSE signature and one verifier');
    }
    return {
      apiVersion: '0.0.1',
      kind: 'dsse',
      spec: {
        envelopeHash: { algorithm: 'sha256', value: sha256(Buffer.from(envelope, 'utf8')).toString('hex') },
        payloadHash: { algorithm: 'sha256', value: sha256(Buffer.from(env.payload, 'base64')).toString('hex') },
        signatures: [{ signature: env.signatures[0].sig, verifier: verifiers[0] }],
      },
    };
  }
  throw new Error(`unexpected Rekor entry ${proposed.kind}/${proposed.apiVersion}`);
}

// Mounts a mock handler ({path, fn}) on baseURL with nock, for any number of
// requests, counting them.
function serve(name, baseURL, handler, calls) {
  calls[name] = 0;
  nock(baseURL)
    .persist()
    .post(handler.path)
    .reply(async (_uri, body) => {
      calls[name]++;
      const request = typeof body === 'string' ? body : JSON.stringify(body);
      const { statusCode, response, contentType } = await handler.fn(request);
      if (statusCode >= 300) process.stderr.write(`make_keyless_fixtures: mock ${name} answered ${statusCode}: ${response}\n`);
      return [statusCode, response, { 'Content-Type': contentType || 'text/plain' }];
    });
}

const rfc3339 = (ms) => new Date(ms).toISOString().replace(/\.000Z$/, 'Z');

async function startServices() {
  // Validity of every trusted key starts here, on a whole second (X.509 times
  // have second precision), before any certificate or entry exists.
  const start = rfc3339(Math.floor(Date.now() / 1000) * 1000);
  const newKey = () => crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });

  // One key per service (mockFulcio() would give the CA and the CT log the same key).
  const ctlog = await initializeCTLog(newKey());
  const ca = await initializeCA(newKey(), ctlog);
  const tlog = await initializeTLog(URLS.rekor, newKey());
  const tsa = await initializeTSA(newKey());
  // The TSA writes genTime with milliseconds, DER-style without trailing
  // zeros ("...05.12Z"); @sigstore/core's parser accepts only exactly three
  // fraction digits, so about one run in three failed. Keep the fraction but
  // make its last digit non-zero (at most 1 ms later than the clock).
  tsa.getCurrentTime = () => {
    const now = Date.now();
    return new Date(now % 10 === 0 ? now + 1 : now);
  };

  const calls = {};
  serve('fulcio', URLS.fulcio, fulcioHandler(ca), calls);
  serve('rekor', URLS.rekor, rekorHandler({ log: (proposed) => tlog.log(asRekorStoresIt(proposed)) }), calls);
  serve('tsa', URLS.tsa, tsaHandler(tsa), calls);

  const logInstance = (baseUrl, spki) => ({
    baseUrl,
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: b64(spki), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } },
    logId: { keyId: b64(sha256(spki)) },
  });
  if (!sha256(ctlog.publicKey).equals(Buffer.from(ctlog.logID))) throw new Error('CT log id is not SHA-256 of its key');
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot.v0.2+json',
    tlogs: [logInstance(URLS.rekor, tlog.publicKey)],
    certificateAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'sigstore' },
      uri: URLS.fulcio,
      certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] },
      validFor: { start },
    }],
    ctlogs: [logInstance(URLS.ctlog, ctlog.publicKey)],
    timestampAuthorities: [{
      subject: { organization: 'sigstore.mock', commonName: 'tsa' },
      uri: URLS.tsa,
      // Signing certificate first, then the root it chains to.
      certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] },
      validFor: { start },
    }],
  };
  return { trustedRoot, calls };
}

// ---------------------------------------------------------------------------
// Statements and the model directory.

function statement(subject, predicateType, predicate) {
  return Buffer.from(JSON.stringify({ _type: STATEMENT_V1, subject, predicateType, predicate }), 'utf8');
}

function slsaProvenance(subjectHex, identity) {
  return statement([{ name: 'model', digest: { sha256: subjectHex } }], SLSA_PROVENANCE_V1, {
    buildDefinition: {
      buildType: 'https://actions.github.io/buildtypes/workflow/v1',
      externalParameters: {
        workflow: { ref: 'refs/heads/main', repository: 'https://github.com/acme/models', path: '.github/workflows/release.yml' },
      },
      internalParameters: { github: { event_name: 'push', repository_id: '100000001', repository_owner_id: '100000000' } },
      resolvedDependencies: [{
        uri: 'git+https://github.com/acme/models@refs/heads/main',
        digest: { gitCommit: sha256('provgate keyless fixture acme/models').toString('hex').slice(0, 40) },
      }],
    },
    runDetails: {
      builder: { id: 'https://github.com/actions/runner' },
      metadata: { invocationId: 'https://github.com/acme/models/actions/runs/7000000001/attempts/1' },
    },
  });
}

// cosign v3 `sign`: subject is the image digest only, the predicate is empty.
function cosignSign(subjectHex) {
  return statement([{ digest: { sha256: subjectHex } }], COSIGN_SIGN_V1, {});
}

const MODEL_FILES = {
  'config.json': Buffer.from('{"architectures":["TinyForCausalLM"],"hidden_size":16,"num_hidden_layers":2,"vocab_size":32}\n'),
  'weights.bin': Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff)),
  'tokenizer.json': Buffer.from('{"version":"1.0","model":{"type":"BPE","vocab":{"<s>":0,"</s>":1,"a":2}},"added_tokens":[]}\n'),
};

// OpenSSF model signing v1.0 ("files" serialization): one resource per file,
// sorted by name; the subject digest is SHA-256 over the concatenated raw
// resource digests in that order.
function modelSigningStatement() {
  const names = Object.keys(MODEL_FILES).sort();
  const digests = names.map((n) => sha256(MODEL_FILES[n]));
  const root = sha256(Buffer.concat(digests)).toString('hex');
  return {
    root,
    payload: statement([{ name: 'model', digest: { sha256: root } }], MODEL_SIGNING_V1, {
      serialization: { method: 'files', hash_type: 'sha256', allow_symlinks: false, ignore_paths: ['model.sig'] },
      resources: names.map((name, i) => ({ name, algorithm: 'sha256', digest: digests[i].toString('hex') })),
    }),
  };
}

// ---------------------------------------------------------------------------
// Checking.

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Verifies a serialized bundle with @sigstore/verify: certificate chain to the
// CA at every verified time, an SCT from the CT log, the Rekor entry (SET,
// inclusion proof and checkpoint, body against the bundle), the TSA timestamp
// (two verified timestamps required: TSA and the SET's integratedTime), the
// signature, and the identity. Also checks the shape provgate will rely on.
function checkBundle(name, text, trustedRootText, identity, { mediaType, kind, artifact }) {
  const json = JSON.parse(text);
  const trust = toTrustMaterial(TrustedRoot.fromJSON(JSON.parse(trustedRootText)));
  const verifier = new Verifier(trust, { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 2 });
  let signer;
  try {
    signer = verifier.verify(toSignedEntity(bundleFromJSON(json), artifact), {
      subjectAlternativeName: `^${escapeRegExp(identity.subject)}$`,
      extensions: { issuer: identity.issuer },
    });
  } catch (e) {
    throw new Error(`${name}: @sigstore/verify rejected the bundle: ${e.code ? `${e.code}: ` : ''}${e.message}`);
  }
  const vm = json.verificationMaterial;
  const problems = [];
  if (json.mediaType !== mediaType) problems.push(`mediaType ${json.mediaType}`);
  if (vm.tlogEntries.length !== 1) problems.push(`${vm.tlogEntries.length} tlog entries`);
  const entry = vm.tlogEntries[0] || {};
  if (entry.kindVersion?.kind !== kind) problems.push(`tlog entry kind ${entry.kindVersion?.kind}`);
  if (!entry.inclusionPromise?.signedEntryTimestamp) problems.push('no inclusion promise');
  if (!entry.inclusionProof?.checkpoint?.envelope) problems.push('no inclusion proof with checkpoint');
  if ((vm.timestampVerificationData?.rfc3161Timestamps || []).length !== 1) problems.push('not exactly one RFC 3161 timestamp');
  if (problems.length) throw new Error(`${name}: unexpected bundle shape: ${problems.join(', ')}`);
  return signer.identity;
}

function checkStatement(name, json, predicateType, digest) {
  const st = JSON.parse(Buffer.from(json.dsseEnvelope.payload, 'base64').toString('utf8'));
  if (json.dsseEnvelope.payloadType !== IN_TOTO || st._type !== STATEMENT_V1 || st.predicateType !== predicateType ||
      st.subject.length !== 1 || st.subject[0].digest.sha256 !== digest) {
    throw new Error(`${name}: the signed statement is not the one intended`);
  }
}

// The message bundle as v0.3: same signature, tlog entry and timestamp, the
// leaf certificate alone instead of a one-element chain.
function toV03(json) {
  const { x509CertificateChain, ...rest } = json.verificationMaterial;
  const certs = x509CertificateChain?.certificates || [];
  if (certs.length !== 1) throw new Error('message bundle: expected a one-certificate chain');
  return {
    mediaType: BUNDLE_V03,
    verificationMaterial: { certificate: certs[0], ...rest },
    messageSignature: json.messageSignature,
  };
}

// ---------------------------------------------------------------------------

async function main() {
  const { outDir, subjectHex, issuer, subject } = parseArgs(process.argv.slice(2));
  const { trustedRoot, calls } = await startServices();

  const identityProvider = { getToken: async () => mintIdentityToken(issuer, subject) };
  const signer = new FulcioSigner({ identityProvider, fulcioBaseURL: URLS.fulcio, retry: 0 });
  const witnesses = [
    new RekorWitness({ rekorBaseURL: URLS.rekor, entryType: 'dsse', retry: 0 }),
    new TSAWitness({ tsaBaseURL: URLS.tsa, retry: 0 }),
  ];
  const dsse = (data) => new DSSEBundleBuilder({ signer, witnesses }).create({ data, type: IN_TOTO });

  fs.mkdirSync(outDir, { recursive: true });
  const written = [];
  const write = (rel, data) => {
    const p = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
    written.push(p);
  };

  const trustedRootText = JSON.stringify(trustedRoot, null, 2) + '\n';
  write('trusted_root.json', trustedRootText);
  const wanted = { issuer, subject };

  // Builds, serializes, verifies and writes one bundle; returns its identity.
  const identities = [];
  const emit = (file, json, expect) => {
    const text = JSON.stringify(json, null, 2) + '\n';
    identities.push(checkBundle(file, text, trustedRootText, wanted, expect));
    write(file, text);
    return json;
  };

  const prov = emit('provenance.bundle.json', bundleToJSON(await dsse(slsaProvenance(subjectHex))),
    { mediaType: BUNDLE_V03, kind: 'dsse' });
  checkStatement('provenance.bundle.json', prov, SLSA_PROVENANCE_V1, subjectHex);

  const sign = emit('sign.bundle.json', bundleToJSON(await dsse(cosignSign(subjectHex))),
    { mediaType: BUNDLE_V03, kind: 'dsse' });
  checkStatement('sign.bundle.json', sign, COSIGN_SIGN_V1, subjectHex);

  const message = Buffer.from(`provgate keyless message fixture for sha256:${subjectHex}\n`, 'utf8');
  write('message.bin', message);
  const msgJson = bundleToJSON(await new MessageSignatureBundleBuilder({ signer, witnesses }).create({ data: message }));
  emit('message.bundle.json', msgJson, { mediaType: BUNDLE_V02, kind: 'hashedrekord', artifact: message });
  emit('message.v03.bundle.json', toV03(msgJson), { mediaType: BUNDLE_V03, kind: 'hashedrekord', artifact: message });

  for (const [name, data] of Object.entries(MODEL_FILES)) write(path.join('model', name), data);
  const oms = modelSigningStatement();
  const omsJson = emit('oms.bundle.json', bundleToJSON(await dsse(oms.payload)), { mediaType: BUNDLE_V03, kind: 'dsse' });
  checkStatement('oms.bundle.json', omsJson, MODEL_SIGNING_V1, oms.root);

  // The identity as the verifier read it from the certificates (all alike).
  for (const id of identities) {
    if (id.subjectAlternativeName !== subject || id.extensions?.issuer !== issuer) {
      throw new Error(`certificate identity ${id.subjectAlternativeName} / ${id.extensions?.issuer} is not the one requested`);
    }
  }
  write('identity.json', JSON.stringify({
    issuer: identities[0].extensions.issuer,
    subject: identities[0].subjectAlternativeName,
  }, null, 2) + '\n');

  // Four signings, each with its own certificate, log entry and timestamp
  // from the mocks (the v0.3 message bundle reuses the v0.2 one's).
  if (calls.fulcio !== 4 || calls.rekor !== 4 || calls.tsa !== 4) {
    throw new Error(`unexpected mock traffic: ${JSON.stringify(calls)}`);
  }
  process.stdout.write(written.join('\n') + '\n');
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
