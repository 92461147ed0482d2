/** The provider emulator: one loopback server for RunComfy, CometAPI and Runway, with fault injection. */
export { startEmulator, defaultEmulatorOptions } from './server.js';
export type { Emulator } from './server.js';
export { renderVideo, frameSize } from './render.js';
export type * from './types.js';
