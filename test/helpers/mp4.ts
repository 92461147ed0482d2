import { readFile, writeFile } from 'node:fs/promises';
import HME from 'h264-mp4-encoder';
import { ALL_FORMATS, BufferSource, BufferTarget, Conversion, EncodedPacketSink, Input, Mp4OutputFormat, Output } from 'mediabunny';

/** A real H.264 MP4 of a few frames, with moov after mdat (as most encoders write it). */
export async function makeMp4(path: string, frames = 5): Promise<void> {
  const encoder = await HME.createH264MP4Encoder();
  encoder.width = 64;
  encoder.height = 64;
  encoder.frameRate = 10;
  encoder.initialize();
  for (let i = 0; i < frames; i++) encoder.addFrameRgba(new Uint8Array(64 * 64 * 4).fill(i * 40));
  encoder.finalize();
  const data = encoder.FS.readFile(encoder.outputFilename);
  encoder.delete();
  await writeFile(path, data);
}

/** The same media remuxed with moov in front of mdat (fast start), without re-encoding. */
export async function makeFastStart(from: string, to: string): Promise<void> {
  const input = new Input({ source: new BufferSource(await readFile(from)), formats: ALL_FORMATS });
  const target = new BufferTarget();
  const output = new Output({ format: new Mp4OutputFormat({ fastStart: 'in-memory' }), target });
  const conversion = await Conversion.init({ input, output });
  await conversion.execute();
  await writeFile(to, new Uint8Array(target.buffer!));
}

/** Every video packet's bytes and timestamp, in decode order, read through the container's own indexes. */
export async function videoPackets(path: string): Promise<{ timestamp: number; data: Buffer }[]> {
  const input = new Input({ source: new BufferSource(await readFile(path)), formats: ALL_FORMATS });
  const track = await input.getPrimaryVideoTrack();
  if (!track) throw new Error(`${path} has no video track`);
  const sink = new EncodedPacketSink(track);
  const packets: { timestamp: number; data: Buffer }[] = [];
  for (let packet = await sink.getFirstPacket(); packet; packet = await sink.getNextPacket(packet)) {
    packets.push({ timestamp: packet.timestamp, data: Buffer.from(packet.data) });
  }
  return packets;
}

/** Top-level box types in file order. */
export async function topLevelTypes(path: string): Promise<string[]> {
  const buf = await readFile(path);
  const types: string[] = [];
  for (let offset = 0; offset + 8 <= buf.length; ) {
    const size = buf.readUInt32BE(offset);
    types.push(buf.toString('latin1', offset + 4, offset + 8));
    if (size < 8) break;
    offset += size;
  }
  return types;
}
