import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";
import fc from "fast-check";
import { EncodedEvent, type Event } from "../../src/protocol/index.js";
import { countUtf8, utf8Length } from "../../src/protocol/utf8.js";
import { TcpConnection } from "../../src/transports/tcp-connection.js";
import { WebSocketConnection } from "../../src/transports/websocket-connection.js";
import { lineFraming } from "../../src/transports/framing.js";

/** Records every chunk written to `socket` (a spy on a real socket: the write still happens). */
function recordWrites(socket: Duplex): unknown[] {
  const chunks: unknown[] = [];
  const write = socket.write.bind(socket) as (...a: unknown[]) => boolean;
  socket.write = ((...args: unknown[]) => {
    chunks.push(args[0]);
    return write(...args);
  }) as typeof socket.write;
  return chunks;
}

const message = (c: string): Event => ({ _et: "user_message", r: "general", u: "ann", c });

/** Payloads across the three WebSocket length encodings, with multi-byte UTF-8 in each. */
const TEXTS = [
  "ü ✓ 😀", // 7-bit length
  "€".repeat(100), // 300 bytes: 16-bit length
  "ü".repeat(40_000), // 80,000 bytes (above 64 KiB): 64-bit length
];

describe("shared encodings", () => {
  it("encode each framing once: the same bytes for every call", () => {
    const e = new EncodedEvent(message("ü"));
    assert.equal(e.line, e.line);
    assert.equal(e.lengthPrefixed, e.lengthPrefixed);
    assert.equal(e.webSocketFrame, e.webSocketFrame);
  });

  it("byteLength is the JSON's UTF-8 size, before and after the line is encoded", () => {
    for (const text of TEXTS) {
      const fresh = new EncodedEvent(message(text));
      assert.equal(fresh.byteLength, Buffer.byteLength(fresh.json));
      const encoded = new EncodedEvent(message(text));
      assert.equal(encoded.line.length, Buffer.byteLength(encoded.json) + 2);
      assert.equal(encoded.byteLength, Buffer.byteLength(encoded.json));
    }
  });

  it("the UTF-8 size is counted as an encoder writes it, lone surrogates included", () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), (text) => {
        const expected = encoder.encode(text).length;
        assert.equal(countUtf8(text), expected);
        assert.equal(utf8Length(text), expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it("line TCP: one event reaches two recipients as the same Buffer", async () => {
    const server: Server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const accepted: Socket[] = [];
    server.on("connection", (s: Socket) => accepted.push(s));
    const clients = [connect(port, "127.0.0.1"), connect(port, "127.0.0.1")];
    await Promise.all(clients.map((c) => once(c, "connect")));
    while (accepted.length < 2) await new Promise((r) => setImmediate(r));
    try {
      const writes = accepted.map(recordWrites);
      const conns = accepted.map((s) => new TcpConnection(s, lineFraming, 65_536, 0));
      const event = new EncodedEvent(message("😀 ü"));
      for (const c of conns) c.send(event);
      const received = clients.map(async (c) => {
        let text = "";
        for await (const chunk of c) {
          text += String(chunk);
          if (text.endsWith("\r\n")) return text;
        }
        return text;
      });
      const texts = await Promise.all(received);
      assert.deepEqual(texts, [event.json + "\r\n", event.json + "\r\n"]);
      assert.equal(writes[0]!.length, 1);
      assert.equal(writes[1]!.length, 1);
      assert.equal(writes[0]![0], writes[1]![0], "both sockets were written the same Buffer");
      assert.equal(writes[0]![0], event.line);
    } finally {
      for (const c of clients) c.destroy();
      server.close();
    }
  });

  it("WebSocket: shared frames decode at every client (multi-byte UTF-8, 7/16/64-bit lengths)", async () => {
    const wss = new WebSocketServer({ port: 0, host: "127.0.0.1", perMessageDeflate: false });
    await once(wss, "listening");
    const { port } = wss.address() as AddressInfo;
    const conns: WebSocketConnection[] = [];
    const writes: unknown[][] = [];
    wss.on("connection", (ws, req) => {
      // ws keeps the upgraded socket as its own; the transport hands the same one to the connection
      const socket = req.socket;
      writes.push(recordWrites(socket));
      conns.push(new WebSocketConnection(ws, socket, "test", 65_536, () => {}));
    });
    const clients = [
      new WebSocket(`ws://127.0.0.1:${port}`),
      new WebSocket(`ws://127.0.0.1:${port}`),
    ];
    await Promise.all(clients.map((c) => once(c, "open")));
    while (conns.length < 2) await new Promise((r) => setImmediate(r));
    try {
      const events = TEXTS.map((t) => new EncodedEvent(message(t)));
      const received = clients.map(
        (c) =>
          new Promise<string[]>((resolve) => {
            const got: string[] = [];
            c.on("message", (data, isBinary) => {
              assert.equal(isBinary, false);
              got.push((data as Buffer).toString("utf8"));
              if (got.length === events.length) resolve(got);
            });
          }),
      );
      // one event per turn, so that each write is the event's own frame
      for (const e of events) {
        for (const c of conns) c.send(e);
        await new Promise((r) => setImmediate(r));
        await new Promise((r) => setImmediate(r));
      }
      const got = await Promise.all(received);
      for (const g of got)
        assert.deepEqual(
          g,
          events.map((e) => e.json),
        );
      assert.deepEqual(
        writes[0]!.slice(0, events.length),
        events.map((e) => e.webSocketFrame),
      );
      for (let i = 0; i < events.length; i++) {
        assert.equal(writes[0]![i], writes[1]![i], "both sockets were written the same frame");
      }
      const lengths = events.map((e) => e.webSocketFrame[1]);
      assert.deepEqual(lengths, [Buffer.byteLength(events[0]!.json), 126, 127]);
    } finally {
      for (const c of clients) c.terminate();
      wss.close();
    }
  });
});
