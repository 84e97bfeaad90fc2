// The protocol as data: packet types, MQTT 5 properties and reason codes, each defined once and read
// by the encoder, the decoder, the session and the broker alike.

/** Packet type numbers (the high nibble of the first byte). */
export const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7,
  SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, PINGREQ = 12, PINGRESP = 13, DISCONNECT = 14,
  AUTH = 15;

/** Bit of a packet type in the "allowed in" masks below. The will properties use bit 0 (type 0 is unused). */
export const WILL = 0;

/** Property value types, as stored on the wire; the one-byte ones first (`kind <= BYTE`). */
export const BOOL = 0, BYTE = 1, U16 = 2, U32 = 3, VARINT = 4, STRING = 5, BINARY = 6, PAIR = 7;

/**
 * The inverse of a table of names, or of entries that start with a name: name -> key. Called as a
 * pure function, so that a bundle which never reads the result leaves the work out.
 */
function indexOf(table: { [key: number]: string | [string, ...unknown[]] }): { [name: string]: number } {
  const index: { [name: string]: number } = {};
  for (const key in table) {
    const entry = table[key];
    index[typeof entry === 'string' ? entry : entry[0]] = +key;
  }
  return index;
}

/** mqtt-packet's `cmd` names, indexed by packet type. */
export const CMD_NAMES = ['', 'connect', 'connack', 'publish', 'puback', 'pubrec', 'pubrel', 'pubcomp',
  'subscribe', 'suback', 'unsubscribe', 'unsuback', 'pingreq', 'pingresp', 'disconnect', 'auth'];

const CMD_TYPES = /* @__PURE__ */ indexOf(CMD_NAMES);

/** Packet type from a `cmd` name, or 0. */
export function packetType(cmd: string): number {
  return CMD_TYPES[cmd] || 0;
}

/**
 * MQTT 5 properties (spec 2.2.2.2): id -> [mqtt-packet name, value type, packets that may carry it].
 * BOOL is a byte that must be 0 or 1 and reads as a boolean, as mqtt-packet does.
 */
export const PROPERTIES: { [id: number]: [string, number, number] } = __MQTT5__ ? {
  0x01: ['payloadFormatIndicator', BOOL, 1 << PUBLISH | 1 << WILL],
  0x02: ['messageExpiryInterval', U32, 1 << PUBLISH | 1 << WILL],
  0x03: ['contentType', STRING, 1 << PUBLISH | 1 << WILL],
  0x08: ['responseTopic', STRING, 1 << PUBLISH | 1 << WILL],
  0x09: ['correlationData', BINARY, 1 << PUBLISH | 1 << WILL],
  0x0b: ['subscriptionIdentifier', VARINT, 1 << PUBLISH | 1 << SUBSCRIBE],
  0x11: ['sessionExpiryInterval', U32, 1 << CONNECT | 1 << CONNACK | 1 << DISCONNECT],
  0x12: ['assignedClientIdentifier', STRING, 1 << CONNACK],
  0x13: ['serverKeepAlive', U16, 1 << CONNACK],
  0x15: ['authenticationMethod', STRING, 1 << CONNECT | 1 << CONNACK | 1 << AUTH],
  0x16: ['authenticationData', BINARY, 1 << CONNECT | 1 << CONNACK | 1 << AUTH],
  0x17: ['requestProblemInformation', BOOL, 1 << CONNECT],
  0x18: ['willDelayInterval', U32, 1 << WILL],
  0x19: ['requestResponseInformation', BOOL, 1 << CONNECT],
  0x1a: ['responseInformation', STRING, 1 << CONNACK],
  0x1c: ['serverReference', STRING, 1 << CONNACK | 1 << DISCONNECT],
  0x1f: ['reasonString', STRING, 1 << CONNACK | 1 << PUBACK | 1 << PUBREC | 1 << PUBREL | 1 << PUBCOMP | 1 << SUBACK | 1 << UNSUBACK | 1 << DISCONNECT | 1 << AUTH],
  0x21: ['receiveMaximum', U16, 1 << CONNECT | 1 << CONNACK],
  0x22: ['topicAliasMaximum', U16, 1 << CONNECT | 1 << CONNACK],
  0x23: ['topicAlias', U16, 1 << PUBLISH],
  0x24: ['maximumQoS', BYTE, 1 << CONNACK],
  0x25: ['retainAvailable', BOOL, 1 << CONNACK],
  0x26: ['userProperties', PAIR, 0xffff],
  0x27: ['maximumPacketSize', U32, 1 << CONNECT | 1 << CONNACK],
  0x28: ['wildcardSubscriptionAvailable', BOOL, 1 << CONNACK],
  0x29: ['subscriptionIdentifiersAvailable', BOOL, 1 << CONNACK],
  0x2a: ['sharedSubscriptionAvailable', BOOL, 1 << CONNACK],
} : {};

/** Property id from its name, built once from the table. */
export const PROPERTY_IDS = /* @__PURE__ */ indexOf(PROPERTIES);


/** Reason codes shared by several packets (spec 2.4), by name for the code that uses them. */
export const SUCCESS = 0x00, DISCONNECT_WITH_WILL = 0x04, NO_MATCHING_SUBSCRIBERS = 0x10, NO_SUBSCRIPTION_EXISTED = 0x11,
  UNSPECIFIED_ERROR = 0x80, MALFORMED_PACKET = 0x81, PROTOCOL_ERROR = 0x82, IMPLEMENTATION_SPECIFIC = 0x83,
  UNSUPPORTED_PROTOCOL_VERSION = 0x84, CLIENT_ID_NOT_VALID = 0x85, BAD_USERNAME_OR_PASSWORD = 0x86,
  NOT_AUTHORIZED = 0x87, SERVER_UNAVAILABLE = 0x88, SERVER_BUSY = 0x89, BANNED = 0x8a,
  SERVER_SHUTTING_DOWN = 0x8b, BAD_AUTHENTICATION_METHOD = 0x8c, KEEP_ALIVE_TIMEOUT = 0x8d, SESSION_TAKEN_OVER = 0x8e,
  TOPIC_FILTER_INVALID = 0x8f, TOPIC_NAME_INVALID = 0x90,
  PACKET_ID_IN_USE = 0x91, PACKET_ID_NOT_FOUND = 0x92, RECEIVE_MAXIMUM_EXCEEDED = 0x93,
  TOPIC_ALIAS_INVALID = 0x94, PACKET_TOO_LARGE = 0x95, QUOTA_EXCEEDED = 0x97, PAYLOAD_FORMAT_INVALID = 0x99,
  RETAIN_NOT_SUPPORTED = 0x9a, QOS_NOT_SUPPORTED = 0x9b, SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9e,
  SUBSCRIPTION_IDS_NOT_SUPPORTED = 0xa1, WILDCARDS_NOT_SUPPORTED = 0xa2;

const ACKS = 1 << PUBACK | 1 << PUBREC;
/**
 * Every MQTT 5 reason code (spec 2.4): code -> [text for logs, packets that may carry it].
 * The decoder refuses a code outside its packet's set; the logs print the text.
 */
export const REASONS: { [code: number]: [string, number] } = __MQTT5__ ? {
  0x00: ['Success', 1 << CONNACK | 1 << PUBACK | 1 << PUBREC | 1 << PUBREL | 1 << PUBCOMP | 1 << UNSUBACK | 1 << AUTH | 1 << DISCONNECT | 1 << SUBACK],
  0x01: ['Granted QoS 1', 1 << SUBACK],
  0x02: ['Granted QoS 2', 1 << SUBACK],
  0x04: ['Disconnect with Will Message', 1 << DISCONNECT],
  0x10: ['No matching subscribers', ACKS],
  0x11: ['No subscription existed', 1 << UNSUBACK],
  0x18: ['Continue authentication', 1 << AUTH],
  0x19: ['Re-authenticate', 1 << AUTH],
  0x80: ['Unspecified error', 1 << CONNACK | 1 << PUBACK | 1 << PUBREC | 1 << SUBACK | 1 << UNSUBACK | 1 << DISCONNECT],
  0x81: ['Malformed Packet', 1 << CONNACK | 1 << DISCONNECT],
  0x82: ['Protocol Error', 1 << CONNACK | 1 << DISCONNECT],
  0x83: ['Implementation specific error', 1 << CONNACK | 1 << PUBACK | 1 << PUBREC | 1 << SUBACK | 1 << UNSUBACK | 1 << DISCONNECT],
  0x84: ['Unsupported Protocol Version', 1 << CONNACK],
  0x85: ['Client Identifier not valid', 1 << CONNACK],
  0x86: ['Bad User Name or Password', 1 << CONNACK],
  0x87: ['Not authorized', 1 << CONNACK | 1 << PUBACK | 1 << PUBREC | 1 << SUBACK | 1 << UNSUBACK | 1 << DISCONNECT],
  0x88: ['Server unavailable', 1 << CONNACK],
  0x89: ['Server busy', 1 << CONNACK | 1 << DISCONNECT],
  0x8a: ['Banned', 1 << CONNACK],
  0x8b: ['Server shutting down', 1 << DISCONNECT],
  0x8c: ['Bad authentication method', 1 << CONNACK | 1 << DISCONNECT],
  0x8d: ['Keep Alive timeout', 1 << DISCONNECT],
  0x8e: ['Session taken over', 1 << DISCONNECT],
  0x8f: ['Topic Filter invalid', 1 << SUBACK | 1 << UNSUBACK | 1 << DISCONNECT],
  0x90: ['Topic Name invalid', 1 << CONNACK | 1 << PUBACK | 1 << PUBREC | 1 << DISCONNECT],
  0x91: ['Packet Identifier in use', 1 << PUBACK | 1 << PUBREC | 1 << SUBACK | 1 << UNSUBACK],
  0x92: ['Packet Identifier not found', 1 << PUBREL | 1 << PUBCOMP],
  0x93: ['Receive Maximum exceeded', 1 << DISCONNECT],
  0x94: ['Topic Alias invalid', 1 << DISCONNECT],
  0x95: ['Packet too large', 1 << CONNACK | 1 << DISCONNECT],
  0x96: ['Message rate too high', 1 << DISCONNECT],
  0x97: ['Quota exceeded', 1 << CONNACK | 1 << PUBACK | 1 << PUBREC | 1 << SUBACK | 1 << DISCONNECT],
  0x98: ['Administrative action', 1 << DISCONNECT],
  0x99: ['Payload format invalid', 1 << CONNACK | 1 << PUBACK | 1 << PUBREC | 1 << DISCONNECT],
  0x9a: ['Retain not supported', 1 << CONNACK | 1 << DISCONNECT],
  0x9b: ['QoS not supported', 1 << CONNACK | 1 << DISCONNECT],
  0x9c: ['Use another server', 1 << CONNACK | 1 << DISCONNECT],
  0x9d: ['Server moved', 1 << CONNACK | 1 << DISCONNECT],
  0x9e: ['Shared Subscriptions not supported', 1 << SUBACK | 1 << DISCONNECT],
  0x9f: ['Connection rate exceeded', 1 << CONNACK | 1 << DISCONNECT],
  0xa0: ['Maximum connect time', 1 << DISCONNECT],
  0xa1: ['Subscription Identifiers not supported', 1 << SUBACK | 1 << DISCONNECT],
  0xa2: ['Wildcard Subscriptions not supported', 1 << SUBACK | 1 << DISCONNECT],
} : {};

/** 3.1.1 CONNACK return codes (spec 3.2.2.3), for messages; 0 is acceptance, never told. */
export const CONNACK_RETURN_CODES = ['', 'unacceptable protocol version',
  'identifier rejected', 'server unavailable', 'bad user name or password', 'not authorized'];

/** Text for a reason code, for logs and errors; on a board (no __TEXTS__) the code alone, in hex. */
export function reasonText(code: number): string {
  if (__TEXTS__) {
    const r = REASONS[code];
    if (r) return r[0];
  }
  return 'reason 0x' + code.toString(16);
}

/** Text for a 3.1.1 CONNACK return code (1-5); on a board the number alone, as for reason codes. */
export function returnCodeText(code: number): string {
  return __TEXTS__ ? CONNACK_RETURN_CODES[code] : 'return code ' + code;
}
