/** The end-to-end harness in one import: see README.md beside this file. */
export * from './audio.js';
export * from './baresip.js';
export * from './capture.js';
export * from './certificates.js';
export * from './cleanup.js';
export * from './debian-rootfs.js';
export * from './followed-file.js';
export * from './linphone.js';
export * from './media-sockets.js';
export * from './netns.js';
export * from './ports.js';
export * from './process.js';
export * from './raw-sip.js';
export * from './rtp.js';
export * from './sipp.js';
export * from './systemd-unit.js';
export * from './voix.js';
