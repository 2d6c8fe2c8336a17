// TEST-ONLY. The server side of RFC 6455 WebSocket, just enough for the pods/exec channel protocol
// (v4/v5.channel.k8s.io): handshake with subprotocol selection, masked client frames (fragmented or not), binary
// and text messages, ping/pong, close.
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface ServerWebSocket {
  protocol: string;
  send(data: Buffer): void;
  close(code?: number): void;
  onMessage(cb: (data: Buffer) => void): void;
  onClose(cb: () => void): void;
}

/** Completes the handshake (101) and returns the socket wrapper, or answers 400 and returns undefined. */
export function acceptWebSocket(req: IncomingMessage, socket: Socket, protocols: string[], head?: Buffer): ServerWebSocket | undefined {
  const key = req.headers['sec-websocket-key'];
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket' || typeof key !== 'string') {
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    return undefined;
  }
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const protocol = offered.find((p) => protocols.includes(p)) ?? '';
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  socket.write(
    ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${accept}`, ...(protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : []), '', ''].join('\r\n'),
  );
  const messageCbs: ((d: Buffer) => void)[] = [];
  const closeCbs: (() => void)[] = [];
  let buf: Buffer = head && head.length ? Buffer.from(head) : Buffer.alloc(0);
  let fragments: Buffer[] = [];
  let closed = false;

  const frame = (opcode: number, payload: Buffer): Buffer => {
    const len = payload.length;
    let header: Buffer;
    if (len < 126) header = Buffer.from([0x80 | opcode, len]);
    else if (len < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 126;
      header.writeUInt16BE(len, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 127;
      header.writeBigUInt64BE(BigInt(len), 2);
    }
    return Buffer.concat([header, payload]);
  };

  const finish = () => {
    if (closed) return;
    closed = true;
    for (const cb of closeCbs) cb();
  };

  const parse = () => {
    for (;;) {
      if (buf.length < 2) return;
      const b0 = buf[0]!;
      const b1 = buf[1]!;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        off = 10;
      }
      const maskLen = masked ? 4 : 0;
      if (buf.length < off + maskLen + len) return;
      const mask = masked ? buf.subarray(off, off + 4) : undefined;
      const payload = Buffer.from(buf.subarray(off + maskLen, off + maskLen + len));
      if (mask) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
      buf = buf.subarray(off + maskLen + len);
      if (opcode === 0x8) {
        if (!closed) socket.end(frame(0x8, payload.subarray(0, 2)));
        finish();
        return;
      }
      if (opcode === 0x9) {
        socket.write(frame(0xa, payload));
        continue;
      }
      if (opcode === 0xa) continue;
      fragments.push(payload);
      if (fin) {
        const msg = Buffer.concat(fragments);
        fragments = [];
        for (const cb of messageCbs) cb(msg);
      }
    }
  };

  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    parse();
  });
  socket.on('close', finish);
  socket.on('error', finish);
  if (buf.length) setImmediate(parse);

  return {
    protocol,
    send(data: Buffer) {
      if (!closed) socket.write(frame(0x2, data));
    },
    close(code = 1000) {
      if (closed) return;
      const p = Buffer.alloc(2);
      p.writeUInt16BE(code, 0);
      socket.write(frame(0x8, p));
      closed = true;
      socket.end();
      for (const cb of closeCbs) cb();
    },
    onMessage(cb) {
      messageCbs.push(cb);
    },
    onClose(cb) {
      closeCbs.push(cb);
    },
  };
}
