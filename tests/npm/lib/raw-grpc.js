// A gRPC client over node:http2 alone, for timing one call without a gRPC library's per-method setup: the
// request headers are the ones the engine's grpc-go client sends (grpc/grpc-go, internal/transport/http2_client.go
// createHeaderFields), the message framing and statuses those of gRPC's HTTP/2 protocol (grpc/grpc,
// doc/PROTOCOL-HTTP2.md). The bytes of the messages are the official protos' (serializeBinary/deserializeBinary of the
// generated classes in @pulumi/pulumi), so nothing here encodes or decodes protobuf by hand.
"use strict";

const http2 = require("node:http2");
const zlib = require("node:zlib");

// Opens an HTTP/2 session to 127.0.0.1:PORT and resolves once the server's SETTINGS have arrived.
function connect(port) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.once("error", reject);
    session.once("remoteSettings", () => {
      session.off("error", reject);
      session.on("error", () => {});
      resolve(session);
    });
  });
}

// gRPC's message frame: a compressed flag, a 4-byte big-endian length, the bytes.
function frame(bytes) {
  const out = Buffer.alloc(5 + bytes.length);
  out.writeUInt32BE(bytes.length, 1);
  Buffer.from(bytes).copy(out, 5);
  return out;
}

// One unary call: resolves with { status, detail, message (the response message's bytes, decompressed; null when
// none), encoding, wireBytes (the message's length on the wire), end (process.hrtime.bigint() when the trailers arrived, or
// the stream closed when there were none; before anything was decompressed) }.
// `accept` is the grpc-accept-encoding header (null: none sent, as grpc-go sends none when no compressor is
// registered). The call ends with the trailers (or a trailers-only answer); every frame is checked.
function unary(session, path, requestBytes, { accept = "gzip", userAgent = "grpc-go/1.83.1" } = {}) {
  return new Promise((resolve, reject) => {
    const headers = {
      ":method": "POST",
      ":scheme": "http",
      ":path": path,
      "content-type": "application/grpc",
      "user-agent": userAgent,
      te: "trailers",
    };
    if (accept !== null) headers["grpc-accept-encoding"] = accept;
    const stream = session.request(headers, { endStream: false });
    const chunks = [];
    let responseHeaders = null;
    let trailers = null;
    stream.on("response", (h) => (responseHeaders = h));
    let trailersAt = null;
    stream.on("trailers", (t) => {
      trailersAt = process.hrtime.bigint();
      trailers = t;
    });
    stream.on("data", (d) => chunks.push(d));
    stream.on("error", reject);
    stream.on("close", () => {
      const end = trailersAt ?? process.hrtime.bigint();
      try {
        if (!responseHeaders) throw new Error(`${path}: no response headers`);
        const last = trailers || responseHeaders; // a trailers-only answer has the status in its headers
        const status = Number(last["grpc-status"]);
        const body = Buffer.concat(chunks);
        if (body.length === 0) {
          resolve({ status, message: null, detail: last["grpc-message"] || "", encoding: null, wireBytes: 0, end });
          return;
        }
        if (body.length < 5) throw new Error(`${path}: ${body.length} bytes, less than a message header`);
        const compressed = body[0];
        const length = body.readUInt32BE(1);
        if (body.length !== 5 + length) throw new Error(`${path}: one message of ${length} bytes announced, ${body.length - 5} received`);
        const encoding = responseHeaders["grpc-encoding"] || "identity";
        let message = body.subarray(5);
        if (compressed === 1) {
          if (encoding !== "gzip") throw new Error(`${path}: a compressed message with grpc-encoding ${encoding}`);
          message = zlib.gunzipSync(message);
        } else if (compressed !== 0) {
          throw new Error(`${path}: compressed flag ${compressed}`);
        }
        resolve({ status, message, detail: last["grpc-message"] || "", encoding: compressed === 1 ? encoding : "identity", wireBytes: length, end });
      } catch (e) {
        reject(e);
      }
    });
    stream.end(frame(requestBytes));
  });
}

module.exports = { connect, unary };
