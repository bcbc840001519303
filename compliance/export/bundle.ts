import { Readable } from 'node:stream';
import type { ByteRange } from '../../server/files/storage.ts';
import { centralEntry, dosDateTime, zip64End } from './zip-layout.ts';

/** A file to store in a bundle: its size and CRC-32 are known, so the bundle's layout is too. */
export interface BundleMember {
  name: string;
  size: number;
  crc32: number;
  modifiedAt: number;
  open(range?: ByteRange): Promise<Readable>;
}

type Segment = { bytes: Buffer } | { member: BundleMember };

/**
 * A zip of already-written files (the batch zips of one job), stored without compression and laid
 * out from their sizes and CRC-32s alone, so it is never written anywhere: any byte range of it is
 * served straight from the members. ZIP64 throughout, so sizes past 4 GiB are fine.
 */
export class StoredZipBundle {
  readonly size: number;
  private readonly segments: { start: number; length: number; segment: Segment }[] = [];

  constructor(members: BundleMember[]) {
    const central: Buffer[] = [];
    let offset = 0;
    const push = (segment: Segment, length: number) => {
      this.segments.push({ start: offset, length, segment });
      offset += length;
    };
    for (const m of members) {
      const name = Buffer.from(m.name, 'utf8');
      const { time, date } = dosDateTime(m.modifiedAt);
      const local = Buffer.alloc(30 + name.length + 20);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(45, 4);
      local.writeUInt16LE(0x0800, 6);
      local.writeUInt16LE(0, 8);
      local.writeUInt16LE(time, 10);
      local.writeUInt16LE(date, 12);
      local.writeUInt32LE(m.crc32 >>> 0, 14);
      local.writeUInt32LE(0xffffffff, 18);
      local.writeUInt32LE(0xffffffff, 22);
      local.writeUInt16LE(name.length, 26);
      local.writeUInt16LE(20, 28);
      name.copy(local, 30);
      local.writeUInt16LE(0x0001, 30 + name.length);
      local.writeUInt16LE(16, 32 + name.length);
      local.writeBigUInt64LE(BigInt(m.size), 34 + name.length);
      local.writeBigUInt64LE(BigInt(m.size), 42 + name.length);
      const localOffset = offset;
      push({ bytes: local }, local.length);
      push({ member: m }, m.size);

      const entry = centralEntry({ name, time, date, crc32: m.crc32, method: 0, flags: 0x0800, compressed: m.size, size: m.size, offset: localOffset });
      central.push(entry);
    }
    const directory = Buffer.concat(central);
    const directoryOffset = offset;
    const tail = zip64End(members.length, directory.length, directoryOffset);
    push({ bytes: Buffer.concat([directory, tail]) }, directory.length + tail.length);
    this.size = offset;
  }

  /** The bundle's bytes, or the inclusive range of them. */
  open(range?: ByteRange): Readable {
    const start = range?.start ?? 0;
    const end = range ? range.end + 1 : this.size;
    const segments = this.segments;
    async function* bytes(): AsyncGenerator<Buffer> {
      for (const s of segments) {
        const from = Math.max(start, s.start);
        const to = Math.min(end, s.start + s.length);
        if (from >= to) continue;
        if ('bytes' in s.segment) yield s.segment.bytes.subarray(from - s.start, to - s.start);
        else if (to - from > 0) for await (const chunk of await s.segment.member.open({ start: from - s.start, end: to - s.start - 1 })) yield chunk as Buffer;
      }
    }
    return Readable.from(bytes(), { objectMode: false });
  }
}
