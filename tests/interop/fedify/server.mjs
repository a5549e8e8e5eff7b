// A Fedify server on loopback for tests/interop/test_fedify.py: one actor, alice, that
// follows and unfollows whom the test says, and records what reaches its inbox.
// Control (loopback only, for the test): POST /control/follow and /control/unfollow with
// {"target": actor IRI}; GET /control/received. Prints "listening PORT" when ready.
import http from "node:http";
import { Buffer } from "node:buffer";
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from "@fedify/fedify";
import { Accept, Activity, Create, Endpoints, Follow, Person, Undo } from "@fedify/vocab";

const HANDLE = "alice";
const federation = createFederation({
  kv: new MemoryKvStore(),
  allowPrivateAddress: true, // everything here is on 127.0.0.1
});
// An RSA key from the test's pool when given (making one here takes seconds), else a new one.
async function rsaKeyPair() {
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const pkcs8 = process.env.FEDIFY_RSA_PKCS8;
  if (!pkcs8) {
    const params = { ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
    return await crypto.subtle.generateKey(params, true, ["sign", "verify"]);
  }
  const privateKey = await crypto.subtle.importKey(
    "pkcs8", Buffer.from(pkcs8, "base64"), algorithm, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  const publicJwk = { kty: jwk.kty, n: jwk.n, e: jwk.e, alg: jwk.alg, ext: true };
  const publicKey = await crypto.subtle.importKey("jwk", publicJwk, algorithm, true, ["verify"]);
  return { privateKey, publicKey };
}
const keyPairs = [await rsaKeyPair(), await generateCryptoKeyPair("Ed25519")];
const received = [];
let counter = 0;

federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => {
    if (identifier !== HANDLE) return null;
    const keys = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: "Alice (Fedify)",
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: keys[0].cryptographicKey,
      assertionMethods: keys.map((key) => key.multikey),
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === HANDLE ? keyPairs : []));

function record(kind) {
  return async (_ctx, activity) => {
    const object = activity.objectId?.href ?? null;
    received.push({ type: kind, id: activity.id?.href ?? null, object });
  };
}

federation
  .setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Accept, record("Accept"))
  .on(Create, record("Create"))
  .on(Activity, record("Activity"));

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function control(ctx, path, body) {
  const sender = { identifier: HANDLE };
  const me = ctx.getActorUri(HANDLE);
  if (path === "/control/received") return received;
  const { target } = JSON.parse(body.toString() || "{}");
  const actor = await ctx.lookupObject(target);
  if (actor == null) throw new Error(`cannot look up ${target}`);
  if (path === "/control/follow") {
    const follow = new Follow({
      id: new URL(`/follows/${++counter}`, ctx.origin),
      actor: me,
      object: actor.id,
    });
    await ctx.sendActivity(sender, actor, follow);
    return { sent: follow.id.href };
  }
  if (path === "/control/unfollow") {
    // As Fedify applications write it: the undone Follow embedded, without its id.
    const undo = new Undo({
      id: new URL(`/undos/${++counter}`, ctx.origin),
      actor: me,
      object: new Follow({ actor: me, object: actor.id }),
    });
    await ctx.sendActivity(sender, actor, undo);
    return { sent: undo.id.href };
  }
  throw new Error(`no control ${path}`);
}

const server = http.createServer(async (req, res) => {
  try {
    const origin = `http://127.0.0.1:${server.address().port}`;
    const url = new URL(req.url, origin);
    const body = await readBody(req);
    if (url.pathname.startsWith("/control/")) {
      const ctx = federation.createContext(new URL(origin), undefined);
      const answer = await control(ctx, url.pathname, body);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(answer));
      return;
    }
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    }
    const request = new Request(url, {
      method: req.method,
      headers,
      body: req.method === "GET" || req.method === "HEAD" ? undefined : body,
    });
    const response = await federation.fetch(request, {
      contextData: undefined,
      onNotFound: () => new Response("not found", { status: 404 }),
      onNotAcceptable: () => new Response("not acceptable", { status: 406 }),
    });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  } catch (error) {
    res.writeHead(500, { "content-type": "text/plain" });
    res.end(String(error?.stack ?? error));
  }
});

server.listen(0, "127.0.0.1", () => {
  console.log(`listening ${server.address().port}`);
});
// The test closes our stdin when it is done: then we go, whatever happened to it.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
