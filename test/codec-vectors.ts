// Hand-written byte vectors for every MQTT 3.1.1 and 5.0 control packet, derived from the OASIS specifications
// (MQTT 3.1.1 chapters 2-3, MQTT 5.0 chapters 2-3). Each is used both ways: encode(packet) must give exactly
// these bytes, and decoding these bytes must give the packet.
//
// `packet` is what the encoder is given and what the decoder must produce (compared after dropping undefined
// fields and turning Uint8Array into arrays). Properties are listed in the same order in the object and in the
// bytes; the specification attaches no meaning to the order of properties with different identifiers (5.0
// §2.2.2.2), so a vector with several properties pins the encoder's order to the order the caller gave.
import { hex, ascii } from './codec-helpers';
import type { Packet } from '../firmware/mqtt';

export interface Vector {
  name: string;
  version: 3 | 4 | 5;
  bytes: Uint8Array;
  packet: Packet;
  /** Only decode (a valid form the encoder need not produce). */
  decodeOnly?: boolean;
  /** Only encode (MQTT 3.1 CONNECT: the reader is built for 4 or 5). */
  encodeOnly?: boolean;
}

const b = (...xs: number[]) => new Uint8Array(xs);

export const V311: Vector[] = [
  {
    name: 'CONNECT minimal (clean session, keep alive 60)', version: 4,
    bytes: hex(`
      10 0f               # CONNECT, remaining length 15
      00 04 4d 51 54 54   # protocol name "MQTT"
      04                  # protocol level 4 (3.1.1)
      02                  # connect flags: clean session
      00 3c               # keep alive 60
      00 03 73 70 31      # client identifier "sp1"
    `),
    packet: { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: 'sp1', keepalive: 60 },
  },
  {
    name: 'CONNECT with will (QoS 1, retained), user name and password, clean session 0', version: 4,
    bytes: hex(`
      10 27                     # CONNECT, remaining length 39
      00 04 4d 51 54 54         # "MQTT"
      04                        # level 4
      ec                        # flags: user name 80 | password 40 | will retain 20 | will QoS 1 08 | will 04
      01 2c                     # keep alive 300
      00 03 73 70 31            # client identifier "sp1"
      00 06 73 74 2f 73 70 31   # will topic "st/sp1"
      00 03 62 79 65            # will message "bye"
      00 04 75 73 65 72         # user name "user"
      00 03 70 77 21            # password "pw!"
    `),
    packet: {
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, clientId: 'sp1', keepalive: 300,
      will: { topic: 'st/sp1', payload: ascii('bye'), qos: 1, retain: true },
      username: 'user', password: ascii('pw!'),
    },
  },
  {
    name: 'CONNECT with a zero-length client identifier and keep alive 0', version: 4,
    bytes: hex(`
      10 0c               # CONNECT, remaining length 12
      00 04 4d 51 54 54   # "MQTT"
      04 02 00 00         # level 4, clean session, keep alive 0
      00 00               # client identifier "" (MQTT-3.1.3-6)
    `),
    packet: { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId: '', keepalive: 0 },
  },
  {
    name: 'CONNACK session present, accepted', version: 4,
    bytes: hex(`20 02  01  00   # CONNACK, RL 2, ack flags: session present, return code 0`),
    packet: { cmd: 'connack', sessionPresent: true, returnCode: 0 },
  },
  {
    name: 'CONNACK refused, not authorized (return code 5)', version: 4,
    bytes: hex(`20 02  00  05`),
    packet: { cmd: 'connack', sessionPresent: false, returnCode: 5 },
  },
  {
    name: 'PUBLISH QoS 0', version: 4,
    bytes: hex(`
      30 07            # PUBLISH, DUP 0 QoS 0 RETAIN 0, remaining length 7
      00 03 61 2f 62   # topic "a/b"
      68 69            # payload "hi" (no packet identifier at QoS 0)
    `),
    packet: { cmd: 'publish', topic: 'a/b', payload: ascii('hi'), qos: 0, dup: false, retain: false },
  },
  {
    name: 'PUBLISH QoS 1 retained', version: 4,
    bytes: hex(`
      33 0a            # PUBLISH, QoS 1 (02) | RETAIN (01), remaining length 10
      00 03 61 2f 62   # topic "a/b"
      12 34            # packet identifier 0x1234
      01 02 03         # payload
    `),
    packet: { cmd: 'publish', topic: 'a/b', payload: b(1, 2, 3), qos: 1, dup: false, retain: true, messageId: 0x1234 },
  },
  {
    name: 'PUBLISH QoS 2 DUP with an empty payload and packet identifier 65535', version: 4,
    bytes: hex(`
      3c 05            # PUBLISH, DUP (08) | QoS 2 (04), remaining length 5
      00 01 78         # topic "x"
      ff ff            # packet identifier 65535
    `),
    packet: { cmd: 'publish', topic: 'x', payload: b(), qos: 2, dup: true, retain: false, messageId: 0xffff },
  },
  {
    name: 'PUBLISH with a multi-byte UTF-8 topic (3- and 4-byte sequences)', version: 4,
    bytes: hex(`
      31 0b                         # PUBLISH, RETAIN, remaining length 11
      00 08 e2 82 ac 2f f0 9f 98 80 # topic "€/😀" (U+20AC, "/", U+1F600)
      21                            # payload "!"
    `),
    packet: { cmd: 'publish', topic: '\u20ac/\u{1F600}', payload: ascii('!'), qos: 0, dup: false, retain: true },
  },
  {
    name: 'PUBACK', version: 4,
    bytes: hex(`40 02  12 34   # PUBACK, RL 2, packet identifier 0x1234`),
    packet: { cmd: 'puback', messageId: 0x1234 },
  },
  {
    name: 'PUBREC', version: 4,
    bytes: hex(`50 02  12 34`),
    packet: { cmd: 'pubrec', messageId: 0x1234 },
  },
  {
    name: 'PUBREL (fixed header flags 0010)', version: 4,
    bytes: hex(`62 02  12 34`),
    packet: { cmd: 'pubrel', messageId: 0x1234 },
  },
  {
    name: 'PUBCOMP', version: 4,
    bytes: hex(`70 02  12 34`),
    packet: { cmd: 'pubcomp', messageId: 0x1234 },
  },
  {
    name: 'SUBSCRIBE two filters (fixed header flags 0010)', version: 4,
    bytes: hex(`
      82 0c               # SUBSCRIBE, flags 0010, remaining length 12
      00 01               # packet identifier 1
      00 03 61 2f 2b 01   # "a/+", requested QoS 1
      00 01 23 02         # "#", requested QoS 2
    `),
    packet: { cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'a/+', qos: 1 }, { topic: '#', qos: 2 }] },
  },
  {
    name: 'SUBACK granted QoS 1, 2 and failure 0x80', version: 4,
    bytes: hex(`
      90 05      # SUBACK, remaining length 5
      00 01      # packet identifier 1
      01 02 80   # return codes
    `),
    packet: { cmd: 'suback', messageId: 1, granted: [1, 2, 0x80] },
  },
  {
    name: 'UNSUBSCRIBE two filters (fixed header flags 0010)', version: 4,
    bytes: hex(`
      a2 0a            # UNSUBSCRIBE, flags 0010, remaining length 10
      00 02            # packet identifier 2
      00 03 61 2f 2b   # "a/+"
      00 01 23         # "#"
    `),
    packet: { cmd: 'unsubscribe', messageId: 2, unsubscriptions: ['a/+', '#'] },
  },
  {
    name: 'UNSUBACK', version: 4,
    bytes: hex(`b0 02  00 02`),
    packet: { cmd: 'unsuback', messageId: 2 },
  },
  { name: 'PINGREQ', version: 4, bytes: hex(`c0 00`), packet: { cmd: 'pingreq' } },
  { name: 'PINGRESP', version: 4, bytes: hex(`d0 00`), packet: { cmd: 'pingresp' } },
  { name: 'DISCONNECT', version: 4, bytes: hex(`e0 00`), packet: { cmd: 'disconnect' } },
];

export const V31: Vector[] = [
  {
    name: 'MQTT 3.1 CONNECT (protocol name "MQIsdp", level 3)', version: 3, encodeOnly: true,
    bytes: hex(`
      10 11                     # CONNECT, remaining length 17
      00 06 4d 51 49 73 64 70   # protocol name "MQIsdp"
      03                        # protocol level 3
      02                        # clean session
      00 3c                     # keep alive 60
      00 03 73 70 31            # client identifier "sp1"
    `),
    packet: { cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clean: true, clientId: 'sp1', keepalive: 60 },
  },
];

export const V5: Vector[] = [
  {
    name: 'CONNECT minimal (no properties)', version: 5,
    bytes: hex(`
      10 10               # CONNECT, remaining length 16
      00 04 4d 51 54 54   # "MQTT"
      05                  # protocol version 5
      02                  # clean start
      00 3c               # keep alive 60
      00                  # property length 0
      00 03 73 70 31      # client identifier "sp1"
    `),
    packet: { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'sp1', keepalive: 60 },
  },
  {
    name: 'CONNECT with every CONNECT property, a will with every will property, user name and password', version: 5,
    bytes: hex(`
      10 68                   # CONNECT, remaining length 104
      00 04 4d 51 54 54       # "MQTT"
      05                      # version 5
      c6                      # flags: user name 80 | password 40 | will 04 (QoS 0, not retained) | clean start 02
      00 3c                   # keep alive 60
      26                      # property length 38
      11 00 00 0e 10          #   session expiry interval 3600
      21 00 14                #   receive maximum 20
      27 00 00 04 00          #   maximum packet size 1024
      22 00 0a                #   topic alias maximum 10
      19 01                   #   request response information 1
      17 00                   #   request problem information 0
      26 00 01 6b 00 01 76    #   user property k=v
      15 00 03 74 6f 6b       #   authentication method "tok"
      16 00 02 01 02          #   authentication data 01 02
      00 03 73 70 31          # client identifier "sp1"
      25                      # will property length 37
      18 00 00 00 1e          #   will delay interval 30
      01 01                   #   payload format indicator 1 (UTF-8)
      02 00 00 00 3c          #   message expiry interval 60
      03 00 04 74 65 78 74    #   content type "text"
      08 00 03 72 2f 31       #   response topic "r/1"
      09 00 02 ca fe          #   correlation data ca fe
      26 00 01 61 00 01 62    #   user property a=b
      00 01 77                # will topic "w"
      00 01 78                # will payload "x"
      00 01 75                # user name "u"
      00 01 70                # password "p"
    `),
    packet: {
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'sp1', keepalive: 60,
      properties: {
        sessionExpiryInterval: 3600, receiveMaximum: 20, maximumPacketSize: 1024, topicAliasMaximum: 10,
        requestResponseInformation: true, requestProblemInformation: false, userProperties: { k: 'v' },
        authenticationMethod: 'tok', authenticationData: b(1, 2),
      },
      will: {
        topic: 'w', payload: ascii('x'), qos: 0, retain: false,
        properties: {
          willDelayInterval: 30, payloadFormatIndicator: true, messageExpiryInterval: 60, contentType: 'text',
          responseTopic: 'r/1', correlationData: b(0xca, 0xfe), userProperties: { a: 'b' },
        },
      },
      username: 'u', password: ascii('p'),
    },
  },
  {
    name: 'CONNECT with a will (QoS 2, retained) without will properties: will property length 0', version: 5,
    bytes: hex(`
      10 17               # CONNECT, remaining length 23
      00 04 4d 51 54 54   # "MQTT"
      05                  # version 5
      36                  # flags: will retain 20 | will QoS 2 10 | will 04 | clean start 02
      00 3c               # keep alive 60
      00                  # property length 0
      00 03 73 70 31      # client identifier "sp1"
      00                  # will property length 0 (present whenever the will flag is set)
      00 01 77            # will topic "w"
      00 01 78            # will payload "x"
    `),
    packet: {
      cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'sp1', keepalive: 60,
      will: { topic: 'w', payload: ascii('x'), qos: 2, retain: true },
    },
  },
  {
    name: 'CONNECT with a password and no user name (allowed in 5.0)', version: 5,
    bytes: hex(`
      10 13               # CONNECT, remaining length 19
      00 04 4d 51 54 54   # "MQTT"
      05 42 00 3c         # version 5, flags: password 40 | clean start 02, keep alive 60
      00                  # property length 0
      00 03 73 70 31      # client identifier "sp1"
      00 01 70            # password "p"
    `),
    packet: { cmd: 'connect', protocolId: 'MQTT', protocolVersion: 5, clean: true, clientId: 'sp1', keepalive: 60, password: ascii('p') },
  },
  {
    name: 'CONNACK success with every CONNACK property', version: 5,
    bytes: hex(`
      20 40                   # CONNACK, remaining length 64
      00                      # acknowledge flags: session present 0
      00                      # reason code 0x00 success
      3d                      # property length 61
      11 00 00 00 78          #   session expiry interval 120
      21 00 0a                #   receive maximum 10
      24 01                   #   maximum QoS 1
      25 00                   #   retain available 0
      27 00 01 00 00          #   maximum packet size 65536
      12 00 04 61 75 74 6f    #   assigned client identifier "auto"
      22 00 05                #   topic alias maximum 5
      1f 00 02 6f 6b          #   reason string "ok"
      28 01                   #   wildcard subscription available 1
      29 01                   #   subscription identifiers available 1
      2a 00                   #   shared subscription available 0
      13 00 1e                #   server keep alive 30
      1a 00 02 72 69          #   response information "ri"
      1c 00 02 73 32          #   server reference "s2"
      15 00 03 74 6f 6b       #   authentication method "tok"
      16 00 01 ff             #   authentication data ff
    `),
    packet: {
      cmd: 'connack', sessionPresent: false, reasonCode: 0,
      properties: {
        sessionExpiryInterval: 120, receiveMaximum: 10, maximumQoS: 1, retainAvailable: false,
        maximumPacketSize: 65536, assignedClientIdentifier: 'auto', topicAliasMaximum: 5, reasonString: 'ok',
        wildcardSubscriptionAvailable: true, subscriptionIdentifiersAvailable: true,
        sharedSubscriptionAvailable: false, serverKeepAlive: 30, responseInformation: 'ri',
        serverReference: 's2', authenticationMethod: 'tok', authenticationData: b(0xff),
      },
    },
  },
  {
    name: 'CONNACK session present, no properties (property length is not optional in CONNACK)', version: 5,
    bytes: hex(`20 03  01  00  00   # ack flags: session present, reason 0x00, property length 0`),
    packet: { cmd: 'connack', sessionPresent: true, reasonCode: 0 },
  },
  {
    name: 'CONNACK refused with reason code 0x87 (not authorized)', version: 5,
    bytes: hex(`20 03  00  87  00`),
    packet: { cmd: 'connack', sessionPresent: false, reasonCode: 0x87 },
  },
  {
    name: 'PUBLISH QoS 0 with property length 0', version: 5,
    bytes: hex(`
      30 08            # PUBLISH, remaining length 8
      00 03 61 2f 62   # topic "a/b"
      00               # property length 0
      68 69            # payload "hi"
    `),
    packet: { cmd: 'publish', topic: 'a/b', payload: ascii('hi'), qos: 0, dup: false, retain: false },
  },
  {
    name: 'PUBLISH QoS 1 with every PUBLISH property and a repeated user property name', version: 5,
    bytes: hex(`
      32 35                     # PUBLISH, QoS 1, remaining length 53
      00 03 61 2f 62            # topic "a/b"
      00 0a                     # packet identifier 10
      2b                        # property length 43
      01 01                     #   payload format indicator 1
      02 00 00 00 0a            #   message expiry interval 10
      23 00 01                  #   topic alias 1
      08 00 03 72 2f 31         #   response topic "r/1"
      09 00 01 07               #   correlation data 07
      26 00 01 6b 00 02 76 31   #   user property k=v1
      26 00 01 6b 00 02 76 32   #   user property k=v2 (same name again: allowed, order kept)
      0b ac 02                  #   subscription identifier 300 (variable byte integer)
      03 00 01 6a               #   content type "j"
      7b 7d                     # payload "{}"
    `),
    packet: {
      cmd: 'publish', topic: 'a/b', payload: ascii('{}'), qos: 1, dup: false, retain: false, messageId: 10,
      properties: {
        payloadFormatIndicator: true, messageExpiryInterval: 10, topicAlias: 1, responseTopic: 'r/1',
        correlationData: b(7), userProperties: { k: ['v1', 'v2'] }, subscriptionIdentifier: 300, contentType: 'j',
      },
    },
  },
  {
    name: 'PUBLISH with a zero-length topic, a topic alias and two subscription identifiers', version: 5,
    bytes: hex(`
      30 0c        # PUBLISH, remaining length 12
      00 00        # topic name "" (the topic alias stands for it)
      08           # property length 8
      23 00 03     #   topic alias 3
      0b 01        #   subscription identifier 1
      0b c8 01     #   subscription identifier 200
      7a           # payload "z"
    `),
    packet: {
      cmd: 'publish', topic: '', payload: ascii('z'), qos: 0, dup: false, retain: false,
      properties: { topicAlias: 3, subscriptionIdentifier: [1, 200] },
    },
  },
  {
    name: 'PUBLISH with a property length of two bytes (206)', version: 5,
    bytes: hex(`
      30 d3 01            # PUBLISH, remaining length 211
      00 01 61            # topic "a"
      ce 01               # property length 206
      26 00 01 6b 00 c8   #   user property k=<200 x "v">
      ${'76'.repeat(200)}
    `),
    packet: { cmd: 'publish', topic: 'a', payload: b(), qos: 0, dup: false, retain: false, properties: { userProperties: { k: 'v'.repeat(200) } } },
  },
  {
    name: 'PUBACK success in its short form (remaining length 2 means reason 0x00)', version: 5,
    bytes: hex(`40 02  00 0a`),
    packet: { cmd: 'puback', messageId: 10, reasonCode: 0 },
  },
  {
    name: 'PUBACK with reason code 0x00 and property length 0 written out', version: 5, decodeOnly: true,
    bytes: hex(`40 04  00 0a  00  00`),
    packet: { cmd: 'puback', messageId: 10, reasonCode: 0 },
  },
  {
    name: 'PUBACK with a reason code and no property length (remaining length 3)', version: 5, decodeOnly: true,
    bytes: hex(`40 03  00 0a  87   # reason 0x87 not authorized; RL < 4 means no properties`),
    packet: { cmd: 'puback', messageId: 10, reasonCode: 0x87 },
  },
  {
    name: 'PUBACK with reason 0x10 (no matching subscribers) and a reason string', version: 5,
    bytes: hex(`
      40 0b                  # PUBACK, remaining length 11
      00 0a                  # packet identifier 10
      10                     # reason code 0x10
      07                     # property length 7
      1f 00 04 6e 6f 6e 65   #   reason string "none"
    `),
    packet: { cmd: 'puback', messageId: 10, reasonCode: 0x10, properties: { reasonString: 'none' } },
  },
  {
    name: 'PUBREC with reason 0x80 (unspecified error) and a user property', version: 5,
    bytes: hex(`
      50 0d                        # PUBREC, remaining length 13
      00 0b                        # packet identifier 11
      80                           # reason code 0x80
      09                           # property length 9
      26 00 02 65 72 00 02 34 32   #   user property er=42
    `),
    packet: { cmd: 'pubrec', messageId: 11, reasonCode: 0x80, properties: { userProperties: { er: '42' } } },
  },
  {
    name: 'PUBREL with reason 0x92 (packet identifier not found) and a reason string', version: 5,
    bytes: hex(`
      62 0b                  # PUBREL, flags 0010, remaining length 11
      00 0b                  # packet identifier 11
      92                     # reason code 0x92
      07                     # property length 7
      1f 00 04 6c 6f 73 74   #   reason string "lost"
    `),
    packet: { cmd: 'pubrel', messageId: 11, reasonCode: 0x92, properties: { reasonString: 'lost' } },
  },
  {
    name: 'PUBCOMP success in its short form', version: 5,
    bytes: hex(`70 02  00 0b`),
    packet: { cmd: 'pubcomp', messageId: 11, reasonCode: 0 },
  },
  {
    name: 'PUBCOMP with reason 0x92 and no property length', version: 5, decodeOnly: true,
    bytes: hex(`70 03  00 0b  92`),
    packet: { cmd: 'pubcomp', messageId: 11, reasonCode: 0x92 },
  },
  {
    name: 'SUBSCRIBE with subscription identifier, user property and all subscription options', version: 5,
    bytes: hex(`
      82 18                  # SUBSCRIBE, flags 0010, remaining length 24
      00 05                  # packet identifier 5
      0b                     # property length 11
      0b 80 80 01            #   subscription identifier 16384 (3-byte variable byte integer)
      26 00 01 6b 00 01 76   #   user property k=v
      00 03 61 2f 23         # filter "a/#"
      2e                     #   options: retain handling 2 (20) | RAP (08) | NL (04) | QoS 2
      00 01 62               # filter "b"
      10                     #   options: retain handling 1, QoS 0
    `),
    packet: {
      cmd: 'subscribe', messageId: 5,
      properties: { subscriptionIdentifier: 16384, userProperties: { k: 'v' } },
      subscriptions: [
        { topic: 'a/#', qos: 2, nl: true, rap: true, rh: 2 },
        { topic: 'b', qos: 0, nl: false, rap: false, rh: 1 },
      ],
    },
  },
  {
    name: 'SUBSCRIBE with the largest subscription identifier (268,435,455)', version: 5,
    bytes: hex(`
      82 0c             # SUBSCRIBE, remaining length 12
      00 01             # packet identifier 1
      05                # property length 5
      0b ff ff ff 7f    #   subscription identifier 268435455
      00 01 61 00       # filter "a", options 0
    `),
    packet: {
      cmd: 'subscribe', messageId: 1, properties: { subscriptionIdentifier: 268435455 },
      subscriptions: [{ topic: 'a', qos: 0, nl: false, rap: false, rh: 0 }],
    },
  },
  {
    name: 'SUBACK with a reason string and reason codes 0x02, 0x01, 0xA2', version: 5,
    bytes: hex(`
      90 0a            # SUBACK, remaining length 10
      00 05            # packet identifier 5
      04               # property length 4
      1f 00 01 78      #   reason string "x"
      02 01 a2         # granted QoS 2, granted QoS 1, 0xA2 wildcard subscriptions not supported
    `),
    packet: { cmd: 'suback', messageId: 5, properties: { reasonString: 'x' }, granted: [2, 1, 0xa2] },
  },
  {
    name: 'UNSUBSCRIBE with a user property', version: 5,
    bytes: hex(`
      a2 0f                  # UNSUBSCRIBE, flags 0010, remaining length 15
      00 06                  # packet identifier 6
      07                     # property length 7
      26 00 01 6b 00 01 76   #   user property k=v
      00 03 61 2f 23         # filter "a/#"
    `),
    packet: { cmd: 'unsubscribe', messageId: 6, properties: { userProperties: { k: 'v' } }, unsubscriptions: ['a/#'] },
  },
  {
    name: 'UNSUBACK with a reason string and reason codes 0x00, 0x11', version: 5,
    bytes: hex(`
      b0 09         # UNSUBACK, remaining length 9
      00 06         # packet identifier 6
      04            # property length 4
      1f 00 01 6e   #   reason string "n"
      00 11         # success, 0x11 no subscription existed
    `),
    packet: { cmd: 'unsuback', messageId: 6, properties: { reasonString: 'n' }, granted: [0, 0x11] },
  },
  { name: 'PINGREQ', version: 5, bytes: hex(`c0 00`), packet: { cmd: 'pingreq' } },
  { name: 'PINGRESP', version: 5, bytes: hex(`d0 00`), packet: { cmd: 'pingresp' } },
  {
    name: 'DISCONNECT normal in its short form (remaining length 0 means reason 0x00)', version: 5,
    bytes: hex(`e0 00`),
    packet: { cmd: 'disconnect', reasonCode: 0 },
  },
  {
    name: 'DISCONNECT with a reason code and no property length (remaining length 1)', version: 5, decodeOnly: true,
    bytes: hex(`e0 01  8e   # 0x8E session taken over`),
    packet: { cmd: 'disconnect', reasonCode: 0x8e },
  },
  {
    name: 'DISCONNECT from the client: reason 0x04 (with will), session expiry interval and reason string', version: 5,
    bytes: hex(`
      e0 0d               # DISCONNECT, remaining length 13
      04                  # reason code 0x04 disconnect with will message
      0b                  # property length 11
      11 00 00 00 00      #   session expiry interval 0
      1f 00 03 62 79 65   #   reason string "bye"
    `),
    packet: { cmd: 'disconnect', reasonCode: 0x04, properties: { sessionExpiryInterval: 0, reasonString: 'bye' } },
  },
  {
    name: 'DISCONNECT from the server: reason 0x9C (use another server) and server reference', version: 5,
    bytes: hex(`
      e0 07            # DISCONNECT, remaining length 7
      9c               # reason code 0x9C
      05               # property length 5
      1c 00 02 73 32   #   server reference "s2"
    `),
    packet: { cmd: 'disconnect', reasonCode: 0x9c, properties: { serverReference: 's2' } },
  },
  {
    name: 'AUTH success in its short form (remaining length 0)', version: 5,
    bytes: hex(`f0 00`),
    packet: { cmd: 'auth', reasonCode: 0 },
  },
  {
    name: 'AUTH continue authentication (0x18) with method, data and reason string', version: 5,
    bytes: hex(`
      f0 15                  # AUTH, remaining length 21
      18                     # reason code 0x18 continue authentication
      13                     # property length 19
      15 00 03 74 6f 6b      #   authentication method "tok"
      16 00 03 01 02 03      #   authentication data 01 02 03
      1f 00 04 6d 6f 72 65   #   reason string "more"
    `),
    packet: { cmd: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'tok', authenticationData: b(1, 2, 3), reasonString: 'more' } },
  },
];

/** Every MQTT 5 property name, to check that the vectors cover them all. */
export const ALL_V5_PROPERTIES = [
  'payloadFormatIndicator', 'messageExpiryInterval', 'contentType', 'responseTopic', 'correlationData',
  'subscriptionIdentifier', 'sessionExpiryInterval', 'assignedClientIdentifier', 'serverKeepAlive',
  'authenticationMethod', 'authenticationData', 'requestProblemInformation', 'willDelayInterval',
  'requestResponseInformation', 'responseInformation', 'serverReference', 'reasonString', 'receiveMaximum',
  'topicAliasMaximum', 'topicAlias', 'maximumQoS', 'retainAvailable', 'userProperties', 'maximumPacketSize',
  'wildcardSubscriptionAvailable', 'subscriptionIdentifiersAvailable', 'sharedSubscriptionAvailable',
];
