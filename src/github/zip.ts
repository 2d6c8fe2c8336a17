// A small ZIP reader for artifact archives: the central directory (with ZIP64 fields) gives the entries, each
// entry's local header gives where its data starts; stored and deflated entries, CRC-32 checked. Reads into
// memory only (nothing is written to disk, so entry names cannot escape anywhere).
import { crc32, inflateRawSync } from 'node:zlib';

export class ZipError extends Error {
  override name = 'ZipError';
}

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  isDirectory: boolean;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32 = 0xffffffff;
const U16 = 0xffff;

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipError('a ZIP64 size or offset is too large');
  return Number(v);
}

function need(buf: Buffer, at: number, len: number, what: string): void {
  if (at < 0 || at + len > buf.length) throw new ZipError(`truncated archive: ${what} runs past the end`);
}

function findEndOfCentralDirectory(buf: Buffer): number {
  if (buf.length < 22) throw new ZipError('not a zip archive (too short)');
  const stop = Math.max(0, buf.length - 22 - U16);
  for (let i = buf.length - 22; i >= stop; i--) {
    if (buf.readUInt32LE(i) === SIG_EOCD && i + 22 + buf.readUInt16LE(i + 20) === buf.length) return i;
  }
  // Tolerate trailing bytes after the comment: accept the last signature found.
  for (let i = buf.length - 22; i >= stop; i--) if (buf.readUInt32LE(i) === SIG_EOCD) return i;
  throw new ZipError('not a zip archive (no end of central directory record)');
}

/** The entries listed in the central directory. */
export function listZip(buf: Buffer): ZipEntry[] {
  const eocd = findEndOfCentralDirectory(buf);
  let count = buf.readUInt16LE(eocd + 10);
  let cdSize = buf.readUInt32LE(eocd + 12);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === U16 || cdSize === U32 || cdOffset === U32) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== SIG_ZIP64_LOCATOR) throw new ZipError('ZIP64 archive without a ZIP64 locator');
    const rec = u64(buf, loc + 8);
    need(buf, rec, 56, 'the ZIP64 end of central directory');
    if (buf.readUInt32LE(rec) !== SIG_ZIP64_EOCD) throw new ZipError('bad ZIP64 end of central directory record');
    count = u64(buf, rec + 32);
    cdSize = u64(buf, rec + 40);
    cdOffset = u64(buf, rec + 48);
  }
  need(buf, cdOffset, cdSize, 'the central directory');
  const entries: ZipEntry[] = [];
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    need(buf, p, 46, 'a central directory entry');
    if (buf.readUInt32LE(p) !== SIG_CENTRAL) throw new ZipError(`bad central directory entry ${i}`);
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let compressedSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localHeaderOffset = buf.readUInt32LE(p + 42);
    need(buf, p + 46, nameLen + extraLen + commentLen, 'a central directory entry name');
    const nameBytes = buf.subarray(p + 46, p + 46 + nameLen);
    const name = flags & 0x800 ? nameBytes.toString('utf8') : nameBytes.toString('latin1');
    // ZIP64 extended information: only the fields whose 32-bit value is saturated are present, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        need(buf, q, len, 'a ZIP64 extra field');
        if (size === U32) {
          size = u64(buf, q);
          q += 8;
        }
        if (compressedSize === U32) {
          compressedSize = u64(buf, q);
          q += 8;
        }
        if (localHeaderOffset === U32) localHeaderOffset = u64(buf, q);
      }
      e += 4 + len;
    }
    entries.push({ name, method, flags, crc32: crc, compressedSize, size, localHeaderOffset, isDirectory: name.endsWith('/') });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** The uncompressed content of one entry; refuses entries larger than `maxBytes`. */
export function readZipEntry(buf: Buffer, entry: ZipEntry, maxBytes = 64 * 1024 * 1024): Buffer {
  if (entry.flags & 0x1) throw new ZipError(`${entry.name}: encrypted entries are not supported`);
  if (entry.size > maxBytes) throw new ZipError(`${entry.name}: ${entry.size} bytes is more than the ${maxBytes} allowed`);
  const h = entry.localHeaderOffset;
  need(buf, h, 30, `${entry.name}'s local header`);
  if (buf.readUInt32LE(h) !== SIG_LOCAL) throw new ZipError(`${entry.name}: bad local file header`);
  const start = h + 30 + buf.readUInt16LE(h + 26) + buf.readUInt16LE(h + 28);
  need(buf, start, entry.compressedSize, `${entry.name}'s data`);
  const raw = buf.subarray(start, start + entry.compressedSize);
  let data: Buffer;
  if (entry.method === 0) data = Buffer.from(raw);
  else if (entry.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, maxBytes) });
    } catch (err) {
      throw new ZipError(`${entry.name}: cannot inflate (${err instanceof Error ? err.message : String(err)})`);
    }
  } else throw new ZipError(`${entry.name}: compression method ${entry.method} is not supported (only stored and deflate)`);
  if (data.length !== entry.size) throw new ZipError(`${entry.name}: size ${data.length} does not match the directory's ${entry.size}`);
  if ((crc32(data) >>> 0) !== entry.crc32 >>> 0) throw new ZipError(`${entry.name}: CRC-32 mismatch (corrupted archive)`);
  return data;
}

/** Every file entry's content by name. */
export function readZip(buf: Buffer, maxBytes?: number): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const e of listZip(buf)) if (!e.isDirectory) out.set(e.name, readZipEntry(buf, e, maxBytes));
  return out;
}
