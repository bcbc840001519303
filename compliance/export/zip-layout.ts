// The ZIP records both zip writers lay out (the streaming batch writer and the stored bundle): DOS
// times and the ZIP64 end records, so the two stay byte-compatible with every reader.

/** A time as MS-DOS date and time fields (UTC; years before 1980 clamp to 1980). */
export function dosDateTime(ms: number): { time: number; date: number } {
  const d = new Date(ms);
  const year = Math.max(1980, d.getUTCFullYear());
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/**
 * The ZIP64 end of central directory record, its locator and the classic end record (with every
 * field saying "see ZIP64"), for a central directory of `entries` entries, `size` bytes at `offset`.
 */
export function zip64End(entries: number, size: number, offset: number): Buffer {
  const tail = Buffer.alloc(56 + 20 + 22);
  tail.writeUInt32LE(0x06064b50, 0);
  tail.writeBigUInt64LE(44n, 4);
  tail.writeUInt16LE((3 << 8) | 45, 12);
  tail.writeUInt16LE(45, 14);
  tail.writeBigUInt64LE(BigInt(entries), 24);
  tail.writeBigUInt64LE(BigInt(entries), 32);
  tail.writeBigUInt64LE(BigInt(size), 40);
  tail.writeBigUInt64LE(BigInt(offset), 48);
  tail.writeUInt32LE(0x07064b50, 56);
  tail.writeBigUInt64LE(BigInt(offset + size), 64);
  tail.writeUInt32LE(1, 72);
  tail.writeUInt32LE(0x06054b50, 76);
  tail.writeUInt16LE(0xffff, 84);
  tail.writeUInt16LE(0xffff, 86);
  tail.writeUInt32LE(0xffffffff, 88);
  tail.writeUInt32LE(0xffffffff, 92);
  return tail;
}

/** A central directory entry with a ZIP64 extra field holding both sizes and the local header offset. */
export function centralEntry(props: { name: Buffer; time: number; date: number; crc32: number; method: number; flags: number; compressed: number; size: number; offset: number }): Buffer {
  const { name } = props;
  const entry = Buffer.alloc(46 + name.length + 28);
  entry.writeUInt32LE(0x02014b50, 0);
  entry.writeUInt16LE((3 << 8) | 45, 4);
  entry.writeUInt16LE(45, 6);
  entry.writeUInt16LE(props.flags, 8);
  entry.writeUInt16LE(props.method, 10);
  entry.writeUInt16LE(props.time, 12);
  entry.writeUInt16LE(props.date, 14);
  entry.writeUInt32LE(props.crc32 >>> 0, 16);
  entry.writeUInt32LE(0xffffffff, 20);
  entry.writeUInt32LE(0xffffffff, 24);
  entry.writeUInt16LE(name.length, 28);
  entry.writeUInt16LE(28, 30);
  entry.writeUInt32LE((0o100640 << 16) >>> 0, 38);
  entry.writeUInt32LE(0xffffffff, 42);
  name.copy(entry, 46);
  entry.writeUInt16LE(0x0001, 46 + name.length);
  entry.writeUInt16LE(24, 48 + name.length);
  entry.writeBigUInt64LE(BigInt(props.size), 50 + name.length);
  entry.writeBigUInt64LE(BigInt(props.compressed), 58 + name.length);
  entry.writeBigUInt64LE(BigInt(props.offset), 66 + name.length);
  return entry;
}
