import { expect } from 'chai';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { sniff } from '../../server/files/sniff.ts';
import { gif, jpegHeader, png, zipWithEntries } from './fixtures.ts';

describe('content type sniffing', () => {
  it('recognises PNG, JPEG and GIF and reads their dimensions', () => {
    expect(sniff(png(37, 21), true)).to.deep.equal({ mimeType: 'image/png', width: 37, height: 21 });
    expect(sniff(jpegHeader(640, 480), true)).to.deep.equal({ mimeType: 'image/jpeg', width: 640, height: 480 });
    expect(sniff(gif(300, 200), true)).to.deep.equal({ mimeType: 'image/gif', width: 300, height: 200 });
  });

  it('reads a JPEG size behind a 60 KB EXIF segment, and reports 0x0 when the frame header is missing', () => {
    expect(sniff(jpegHeader(4000, 3000, 60_000), true)).to.include({ width: 4000, height: 3000 });
    expect(sniff(jpegHeader(4000, 3000, 60_000).subarray(0, 1000), false)).to.deep.equal({ mimeType: 'image/jpeg', width: 0, height: 0 });
  });

  it('recognises WebP and reads a lossy VP8 frame size', () => {
    const webp = Buffer.alloc(40);
    webp.write('RIFF', 0, 'latin1');
    webp.write('WEBPVP8 ', 8, 'latin1');
    webp.set([0x9d, 0x01, 0x2a], 23);
    webp.writeUInt16LE(320, 26);
    webp.writeUInt16LE(240, 28);
    expect(sniff(webp, true)).to.deep.equal({ mimeType: 'image/webp', width: 320, height: 240 });
  });

  it('recognises documents and archives: PDF, zip, Office files, gzip', () => {
    expect(sniff(Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), true).mimeType).to.equal('application/pdf');
    expect(sniff(zipWithEntries(['notes.txt', 'images/a.png']), true).mimeType).to.equal('application/zip');
    expect(sniff(zipWithEntries(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']), true).mimeType).to.equal('application/vnd.openxmlformats-officedocument.wordprocessingml.document');
    expect(sniff(zipWithEntries(['[Content_Types].xml', 'xl/workbook.xml']), true).mimeType).to.equal('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(sniff(zipWithEntries(['[Content_Types].xml', 'ppt/presentation.xml']), true).mimeType).to.equal('application/vnd.openxmlformats-officedocument.presentationml.presentation');
    expect(sniff(zlib.gzipSync('hello'), true).mimeType).to.equal('application/gzip');
  });

  it('believes a zip mimetype entry only when it is a known OpenDocument type', () => {
    const odt = zipWithEntries(['mimetype']);
    const declared = Buffer.from('application/vnd.oasis.opendocument.text');
    const odtEntry = Buffer.concat([odt.subarray(0, 30), Buffer.from('mimetype'), declared]);
    odtEntry.writeUInt32LE(declared.length, 18);
    expect(sniff(odtEntry, true).mimeType).to.equal('application/vnd.oasis.opendocument.text');
    const evil = Buffer.concat([odt.subarray(0, 30), Buffer.from('mimetype'), Buffer.from('text/html')]);
    evil.writeUInt32LE(9, 18);
    expect(sniff(evil, true).mimeType).to.equal('application/zip');
  });

  it('recognises audio and video: MP4, QuickTime, MP3 (ID3 and bare frames), Ogg', () => {
    const ftyp = (brand: string) => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from(`ftyp${brand}`, 'latin1'), Buffer.alloc(16)]);
    expect(sniff(ftyp('isom'), true).mimeType).to.equal('video/mp4');
    expect(sniff(ftyp('qt  '), true).mimeType).to.equal('video/quicktime');
    expect(sniff(ftyp('M4A '), true).mimeType).to.equal('audio/mp4');
    expect(sniff(Buffer.concat([Buffer.from('ID3\x04\0\0', 'latin1'), Buffer.alloc(32)]), true).mimeType).to.equal('audio/mpeg');
    expect(sniff(Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0]), true).mimeType).to.equal('audio/mpeg');
    expect(sniff(Buffer.concat([Buffer.from('OggS', 'latin1'), Buffer.alloc(24), Buffer.from('\x01vorbis', 'latin1')]), true).mimeType).to.equal('audio/ogg');
  });

  it('calls valid UTF-8 text text/plain, HTML and SVG included, and anything else binary', () => {
    expect(sniff(Buffer.from('Grüße, 世界\nline two\r\n\ttabbed'), true).mimeType).to.equal('text/plain');
    expect(sniff(Buffer.from('<!doctype html><script>alert(1)</script>'), true).mimeType).to.equal('text/plain');
    expect(sniff(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'), true).mimeType).to.equal('text/plain');
    expect(sniff(Buffer.alloc(0), true).mimeType).to.equal('text/plain');
    expect(sniff(Buffer.from([0x41, 0x00, 0x42]), true).mimeType).to.equal('application/octet-stream');
    expect(sniff(Buffer.from([0xc3, 0x28, 0x41]), true).mimeType).to.equal('application/octet-stream');
    expect(sniff(crypto.randomBytes(4096), true).mimeType).to.equal('application/octet-stream');
  });

  it('forgives a multi-byte character cut by the end of the sniffed prefix, but not of the whole file', () => {
    const cut = Buffer.from('abc é'.repeat(10)).subarray(0, -1);
    expect(sniff(cut, false).mimeType).to.equal('text/plain');
    expect(sniff(cut, true).mimeType).to.equal('application/octet-stream');
  });
});
