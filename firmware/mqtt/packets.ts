// Packet objects, with mqtt-packet's field names and shapes so that code and people who know MQTT.js
// read them at once. Binary fields are Uint8Array; decoded ones are views into the received bytes.

export type QoS = 0 | 1 | 2;
export type ProtocolVersion = 3 | 4 | 5;

/** MQTT 5 properties, by mqtt-packet's names. Byte-sized flags read as booleans, as mqtt-packet does. */
export interface Properties {
  payloadFormatIndicator?: boolean;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  correlationData?: Uint8Array;
  /** One in SUBSCRIBE; a PUBLISH from a server may carry several. */
  subscriptionIdentifier?: number | number[];
  sessionExpiryInterval?: number;
  assignedClientIdentifier?: string;
  serverKeepAlive?: number;
  authenticationMethod?: string;
  authenticationData?: Uint8Array;
  requestProblemInformation?: boolean;
  willDelayInterval?: number;
  requestResponseInformation?: boolean;
  responseInformation?: string;
  serverReference?: string;
  reasonString?: string;
  receiveMaximum?: number;
  topicAliasMaximum?: number;
  topicAlias?: number;
  maximumQoS?: number;
  retainAvailable?: boolean;
  userProperties?: { [key: string]: string | string[] };
  maximumPacketSize?: number;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionAvailable?: boolean;
}

/** Payload as given to the encoder: bytes, or a string sent as UTF-8. */
export type Payload = Uint8Array | string;

export interface Will {
  topic: string;
  payload: Payload;
  qos?: QoS;
  retain?: boolean;
  properties?: Properties;
}

export interface ConnectPacket {
  cmd: 'connect';
  protocolId?: 'MQTT' | 'MQIsdp';
  protocolVersion?: ProtocolVersion;
  /** A broker bridging to this one (protocol level 0x80 | version, mosquitto's try_private), as mqtt-packet names it. */
  bridgeMode?: boolean;
  clean?: boolean;
  clientId: string;
  keepalive?: number;
  username?: string;
  password?: Payload;
  will?: Will;
  properties?: Properties;
}

export interface ConnackPacket {
  cmd: 'connack';
  sessionPresent?: boolean;
  /** 3.1.1 return code (0 accepted, 1-5 refused). */
  returnCode?: number;
  /** MQTT 5 reason code. */
  reasonCode?: number;
  properties?: Properties;
}

export interface PublishPacket {
  cmd: 'publish';
  topic: string;
  payload: Payload;
  qos?: QoS;
  dup?: boolean;
  retain?: boolean;
  messageId?: number;
  properties?: Properties;
}

export interface AckPacket {
  cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp';
  messageId: number;
  reasonCode?: number;
  properties?: Properties;
}

export interface Subscription {
  topic: string;
  qos: QoS;
  /** MQTT 5 No Local. */
  nl?: boolean;
  /** MQTT 5 Retain As Published. */
  rap?: boolean;
  /** MQTT 5 Retain Handling (0, 1, 2). */
  rh?: number;
}

export interface SubscribePacket {
  cmd: 'subscribe';
  messageId: number;
  subscriptions: Subscription[];
  properties?: Properties;
}

export interface SubackPacket {
  cmd: 'suback';
  messageId: number;
  /** Granted QoS, or 0x80 (3.1.1) / a reason code (5), per subscription in order. */
  granted: number[];
  properties?: Properties;
}

export interface UnsubscribePacket {
  cmd: 'unsubscribe';
  messageId: number;
  unsubscriptions: string[];
  properties?: Properties;
}

export interface UnsubackPacket {
  cmd: 'unsuback';
  messageId: number;
  /** MQTT 5 reason codes per topic (absent in 3.1.1). */
  granted?: number[];
  properties?: Properties;
}

export interface SimplePacket {
  cmd: 'pingreq' | 'pingresp';
}

export interface DisconnectPacket {
  cmd: 'disconnect';
  reasonCode?: number;
  properties?: Properties;
}

export interface AuthPacket {
  cmd: 'auth';
  reasonCode?: number;
  properties?: Properties;
}

export type Packet = ConnectPacket | ConnackPacket | PublishPacket | AckPacket | SubscribePacket | SubackPacket
  | UnsubscribePacket | UnsubackPacket | SimplePacket | DisconnectPacket | AuthPacket;

/** A decoded packet: the same shapes, binary fields as Uint8Array views. */
export type DecodedPacket = Packet & { cmd: string };
