// What a restic pack file holds: restic keeps data blobs (file contents) and tree blobs (directories, file
// metadata) in separate packs, and a pack's header, encrypted with the master key at the end of the file, says which.
// The corrupt-repository fault damages data packs: one bit in a tree pack can hide every file below it, so which of
// the two a random pick hit would decide between "most files recovered" and "none" from run to run. Format: the
// pack ends with the encrypted header and its length (uint32, little-endian); each header entry starts with its
// blob type: 0 data, 1 tree, 2 compressed data, 3 compressed tree (restic's design document, "Pack format").
import { open as openFile } from 'node:fs/promises';
import { open } from './restic-key.ts';
import type { UserKey } from './restic-key.ts';

export type PackKind = 'data' | 'tree';

/** The kind of blobs a pack holds, from its first header entry; undefined when the header does not decrypt. */
export async function packKind(path: string, masterKey: UserKey): Promise<PackKind | undefined> {
  const fh = await openFile(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 4) return undefined;
    const tail = Buffer.alloc(4);
    await fh.read(tail, 0, 4, size - 4);
    const headerLength = tail.readUInt32LE(0);
    if (headerLength < 33 || headerLength > size - 4) return undefined;
    const header = Buffer.alloc(headerLength);
    await fh.read(header, 0, headerLength, size - 4 - headerLength);
    const plain = open(masterKey, header);
    if (!plain || plain.length === 0) return undefined;
    const type = plain[0];
    return type === 0 || type === 2 ? 'data' : type === 1 || type === 3 ? 'tree' : undefined;
  } finally {
    await fh.close();
  }
}
