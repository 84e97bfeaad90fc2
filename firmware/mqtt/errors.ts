// Decode errors are plain objects, not Error subclasses: `class X extends Error` is broken on Espruino,
// and a connection only needs the reason code to close with and a message to log.

/** Why a packet could not be decoded. `reasonCode` is the MQTT 5 reason code to close the connection with. */
export interface DecodeError {
  reasonCode: number;
  message: string;
}

/** Stops decoding: thrown inside the decoder, caught at its edge (PacketReader.push), never past it. */
export function fail(reasonCode: number, message: string): never {
  throw { reasonCode: reasonCode, message: message } as DecodeError;
}

/** True for the errors `fail` throws, so that any other exception is told apart. */
export function isDecodeError(e: unknown): e is DecodeError {
  return typeof e === 'object' && e !== null && typeof (e as DecodeError).reasonCode === 'number';
}
