/**
 * Content-type detection from magic bytes. The type a client declares (and the file's extension) is never
 * trusted: what a file is decides how it is served, and a lying HTML "image" must not render inline.
 */

/** How many leading bytes `sniff` wants: enough to get past large EXIF/ICC segments to a JPEG's frame header. */
export const SNIFF_BYTES = 256 * 1024;

export interface Sniffed {
  mimeType: string;
  /** Pixel dimensions for images whose header was readable, else 0. */
  width: number;
  height: number;
}

/** Image types that are safe to display inline in a browser (no scripts, no active content). */
export const inlineImageTypes: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

const octetStream = 'application/octet-stream';

function startsWith(buf: Buffer, bytes: number[] | string | Buffer, offset = 0): boolean {
  const probe = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return buf.length >= offset + probe.length && buf.subarray(offset, offset + probe.length).equals(probe);
}

function plain(mimeType: string): Sniffed {
  return { mimeType, width: 0, height: 0 };
}

function image(mimeType: string, dims: { width: number; height: number } | undefined): Sniffed {
  return { mimeType, width: dims?.width ?? 0, height: dims?.height ?? 0 };
}

function pngSize(buf: Buffer) {
  if (buf.length < 24 || !startsWith(buf, 'IHDR', 12)) return undefined;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

function gifSize(buf: Buffer) {
  if (buf.length < 10) return undefined;
  return { width: buf.readUInt16LE(6), height: buf.readUInt16LE(8) };
}

// Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) share the range but do not.
const sofMarkers = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegSize(buf: Buffer) {
  let pos = 2;
  while (pos + 4 <= buf.length) {
    if (buf[pos] !== 0xff) return undefined;
    const marker = buf[pos + 1];
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      pos += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // end of image / start of scan before any frame
    const length = buf.readUInt16BE(pos + 2);
    if (sofMarkers.has(marker)) {
      if (pos + 9 > buf.length) return undefined;
      return { height: buf.readUInt16BE(pos + 5), width: buf.readUInt16BE(pos + 7) };
    }
    if (length < 2) return undefined;
    pos += 2 + length;
  }
  return undefined;
}

function webpSize(buf: Buffer) {
  if (startsWith(buf, 'VP8 ', 12) && buf.length >= 30 && startsWith(buf, [0x9d, 0x01, 0x2a], 23)) {
    return { width: buf.readUInt16LE(26) & 0x3fff, height: buf.readUInt16LE(28) & 0x3fff };
  }
  if (startsWith(buf, 'VP8L', 12) && buf.length >= 25 && buf[20] === 0x2f) {
    const bits = buf.readUInt32LE(21);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (startsWith(buf, 'VP8X', 12) && buf.length >= 30) {
    return { width: buf.readUIntLE(24, 3) + 1, height: buf.readUIntLE(27, 3) + 1 };
  }
  return undefined;
}

// Only these `mimetype` entries of OpenDocument/EPUB containers are believed; anything else stays a zip.
const zipMimetypeEntries = new Set([
  'application/vnd.oasis.opendocument.text',
  'application/vnd.oasis.opendocument.spreadsheet',
  'application/vnd.oasis.opendocument.presentation',
  'application/epub+zip',
]);

const officeDirs: [string, string][] = [
  ['word/', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
  ['xl/', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'],
  ['ppt/', 'application/vnd.openxmlformats-officedocument.presentationml.presentation'],
];

/** Walks the zip's local file headers in the sniffed prefix to tell Office and OpenDocument files from plain zips. */
function zipType(buf: Buffer): string {
  const signature = Buffer.from([0x50, 0x4b, 0x03, 0x04]);
  let pos = 0;
  for (let entries = 0; entries < 64 && pos >= 0 && pos + 30 <= buf.length; entries++) {
    const flags = buf.readUInt16LE(pos + 6);
    const method = buf.readUInt16LE(pos + 8);
    const compressedSize = buf.readUInt32LE(pos + 18);
    const nameLength = buf.readUInt16LE(pos + 26);
    const extraLength = buf.readUInt16LE(pos + 28);
    const dataStart = pos + 30 + nameLength + extraLength;
    if (dataStart > buf.length) break;
    const name = buf.toString('latin1', pos + 30, pos + 30 + nameLength);
    if (entries === 0 && name === 'mimetype' && method === 0) {
      const declared = buf.toString('latin1', dataStart, Math.min(buf.length, dataStart + compressedSize)).trim();
      if (zipMimetypeEntries.has(declared)) return declared;
    }
    for (const [dir, type] of officeDirs) if (name.startsWith(dir)) return type;
    // With a data descriptor (flag bit 3) the size is not in the header: search for the next entry instead.
    pos = (flags & 0x08) !== 0 && compressedSize === 0 ? buf.indexOf(signature, dataStart) : dataStart + compressedSize;
    if (pos >= 0 && !startsWith(buf, signature, pos)) break;
  }
  return 'application/zip';
}

function isoMediaType(buf: Buffer): string {
  const brand = buf.toString('latin1', 8, 12);
  if (brand === 'qt  ') return 'video/quicktime';
  if (brand === 'M4A ' || brand === 'M4B ') return 'audio/mp4';
  if (brand.startsWith('3g')) return 'video/3gpp';
  if (['heic', 'heix', 'mif1', 'msf1', 'avif'].includes(brand)) return octetStream;
  return 'video/mp4';
}

function oggType(buf: Buffer): string {
  const head = buf.subarray(0, 128).toString('latin1');
  if (head.includes('theora')) return 'video/ogg';
  if (head.includes('vorbis') || head.includes('OpusHead') || head.includes('FLAC')) return 'audio/ogg';
  return 'application/ogg';
}

function isMp3Frame(buf: Buffer): boolean {
  if (buf.length < 4 || buf[0] !== 0xff || (buf[1] & 0xe0) !== 0xe0) return false;
  const version = (buf[1] >> 3) & 0x03;
  const layer = (buf[1] >> 1) & 0x03;
  const bitrate = buf[2] >> 4;
  const sampleRate = (buf[2] >> 2) & 0x03;
  return version !== 0x01 && layer === 0x01 && bitrate !== 0 && bitrate !== 0x0f && sampleRate !== 0x03;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Text when the bytes are valid UTF-8 without NULs or unusual control characters. When the prefix is not
 * the whole file, a multi-byte character cut at its end is forgiven.
 */
function isText(buf: Buffer, complete: boolean): boolean {
  let sample = buf;
  if (!complete) {
    // Drop up to 3 trailing bytes of an incomplete sequence.
    let cut = sample.length;
    for (let i = 1; i <= 3 && i <= sample.length; i++) {
      const byte = sample[sample.length - i];
      if ((byte & 0xc0) === 0x80) continue; // continuation byte
      if (byte >= 0xc0) cut = sample.length - i; // lead byte of a possibly cut sequence
      break;
    }
    sample = sample.subarray(0, cut);
  }
  let controls = 0;
  for (const byte of sample) {
    if (byte === 0) return false;
    if ((byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c && byte !== 0x1b) || byte === 0x7f) controls++;
  }
  if (controls > sample.length / 100 + 1) return false;
  try {
    utf8.decode(sample);
    return true;
  } catch {
    return false;
  }
}

/**
 * Detects the content type of a file from its first bytes. `complete` says whether `head` is the whole
 * file (it matters only for the text check). Unknown binary content is application/octet-stream.
 */
export function sniff(head: Buffer, complete: boolean): Sniffed {
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return image('image/png', pngSize(head));
  if (startsWith(head, [0xff, 0xd8, 0xff])) return image('image/jpeg', jpegSize(head));
  if (startsWith(head, 'GIF87a') || startsWith(head, 'GIF89a')) return image('image/gif', gifSize(head));
  if (startsWith(head, 'RIFF') && startsWith(head, 'WEBP', 8)) return image('image/webp', webpSize(head));
  if (startsWith(head, 'RIFF') && startsWith(head, 'WAVE', 8)) return plain('audio/wav');
  if (startsWith(head, '%PDF-')) return plain('application/pdf');
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04])) return plain(zipType(head));
  if (startsWith(head, [0x50, 0x4b, 0x05, 0x06]) || startsWith(head, [0x50, 0x4b, 0x07, 0x08])) return plain('application/zip');
  if (startsWith(head, [0x1f, 0x8b, 0x08])) return plain('application/gzip');
  if (startsWith(head, 'ftyp', 4)) return plain(isoMediaType(head));
  if (startsWith(head, [0x1a, 0x45, 0xdf, 0xa3])) return plain('video/webm');
  if (startsWith(head, 'OggS')) return plain(oggType(head));
  if (startsWith(head, 'fLaC')) return plain('audio/flac');
  if (startsWith(head, 'ID3') || isMp3Frame(head)) return plain('audio/mpeg');
  if (isText(head, complete)) return plain('text/plain');
  return plain(octetStream);
}
