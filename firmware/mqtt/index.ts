// The protocol layer, pure: bytes and time in, bytes and events out. No I/O, no clock.
export * from './constants';
export * from './packets';
export { encode, encodedLength, MAX_REMAINING_LENGTH } from './encode';
export { PacketReader } from './frames';
export type { PacketReaderOptions, PacketHandler } from './frames';
export type { DecodeError } from './errors';
export { utf8Length, utf8Read, utf8Write } from './utf8';
export { validTopicName, validTopicFilter, topicMatches } from './topic';
export { encodePacket, decodePackets, copyPacket } from './convenience';
