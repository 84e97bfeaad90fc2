// Decode errors of the MQTT codec, with the MQTT 5 reason code the connection must be closed with.
// Named after the normative statement they check where there is one: "MQTT-x.y.z-n" alone is MQTT 5.0,
// "3.1.1 MQTT-x.y.z-n" is MQTT 3.1.1. Reason codes: 0x81 malformed packet, 0x82 protocol error,
// 0x84 unsupported protocol version, 0x90 topic name invalid, 0x95 packet too large.
// MQTT 5.0 §2.2.2.2: a property not valid for its packet type, or a value not of its type, is a Malformed Packet;
// a property repeated where it may appear once is a Protocol Error (stated per property, e.g. §3.1.2.11.2).
import { strict as assert } from 'assert';
import { PacketReader } from '../firmware/mqtt';
import { hex, assertRejected, decodeOne } from './codec-helpers';

const MALFORMED = 0x81, PROTOCOL_ERROR = 0x82, UNSUPPORTED_VERSION = 0x84, TOPIC_NAME_INVALID = 0x90, TOO_LARGE = 0x95;

// The specification does not say whether an undefined reason code in an acknowledgement is a Malformed
// Packet or a Protocol Error; either closes the connection.
const BAD_REASON = [MALFORMED, PROTOCOL_ERROR];

// A valid MQTT 5 CONNECT body with its property block replaced: remaining length is computed.
function connect5(props: string, flags = '02', payload = '00 03 73 70 31'): Uint8Array {
  const body = hex('00 04 4d 51 54 54  05 ' + flags + ' 00 3c ' + props + ' ' + payload);
  return new Uint8Array([0x10, body.length, ...body]);
}

describe('decode errors: fixed header', () => {
  it('remaining length with a continuation bit on its 4th byte (5 bytes) is malformed (0x81), 3.1.1 and 5.0', () => {
    assertRejected(hex('30 ff ff ff ff 7f 00 01 61'), 4, MALFORMED);
    assertRejected(hex('30 80 80 80 80 01 00 01 61'), 5, MALFORMED);
  });

  it('the error for a 5-byte remaining length is reported without waiting for more data', () => {
    const reader = new PacketReader({ protocolVersion: 5 });
    const err = reader.push(hex('c0 80 80 80 80'), () => undefined);
    assert.ok(err && err.reasonCode === MALFORMED, JSON.stringify(err));
  });

  describe('reserved fixed-header flag bits are malformed (0x81): 3.1.1 MQTT-2.2.2-1/-2, MQTT-2.1.3-1', () => {
    const v4: [string, string][] = [
      ['CONNECT with flags 0001', '11 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 73 70 31'],
      ['CONNACK with flags 1000', '28 02 00 00'],
      ['PUBACK with flags 0010', '42 02 00 01'],
      ['PUBREC with flags 0001', '51 02 00 01'],
      ['PUBREL with flags 0000 (MQTT-3.6.1-1: must be 0010)', '60 02 00 01'],
      ['PUBREL with flags 0011', '63 02 00 01'],
      ['PUBCOMP with flags 0100', '74 02 00 01'],
      ['SUBSCRIBE with flags 0000 (3.1.1 MQTT-3.8.1-1: must be 0010)', '80 06 00 01 00 01 61 00'],
      ['SUBACK with flags 0010', '92 03 00 01 00'],
      ['UNSUBSCRIBE with flags 0000 (3.1.1 MQTT-3.10.1-1: must be 0010)', 'a0 05 00 01 00 01 61'],
      ['UNSUBACK with flags 1000', 'b8 02 00 01'],
      ['PINGREQ with flags 0001', 'c1 00'],
      ['PINGRESP with flags 0010', 'd2 00'],
      ['DISCONNECT with flags 0001', 'e1 00'],
    ];
    for (const [name, bytes] of v4) it('3.1.1 ' + name, () => { assertRejected(hex(bytes), 4, MALFORMED); });

    const v5: [string, string][] = [
      ['CONNECT with flags 0001', '11 10 00 04 4d 51 54 54 05 02 00 3c 00 00 03 73 70 31'],
      ['CONNACK with flags 1000', '28 03 00 00 00'],
      ['PUBACK with flags 0010', '42 02 00 01'],
      ['PUBREL with flags 0000 (MQTT-3.6.1-1)', '60 02 00 01'],
      ['SUBSCRIBE with flags 0000 (MQTT-3.8.1-1)', '80 07 00 01 00 00 01 61 00'],
      ['SUBACK with flags 0001', '91 04 00 01 00 00'],
      ['UNSUBSCRIBE with flags 0011 (MQTT-3.10.1-1)', 'a3 06 00 01 00 00 01 61'],
      ['UNSUBACK with flags 0100', 'b4 04 00 01 00 00'],
      ['PINGREQ with flags 1000', 'c8 00'],
      ['DISCONNECT with flags 0001 (MQTT-3.14.1-1)', 'e1 00'],
      ['AUTH with flags 1000 (MQTT-3.15.1-1)', 'f8 00'],
    ];
    for (const [name, bytes] of v5) it('5.0 ' + name, () => { assertRejected(hex(bytes), 5, MALFORMED); });
  });

  it('packet type 0 (reserved) is malformed (0x81)', () => {
    assertRejected(hex('00 00'), 4, MALFORMED);
    assertRejected(hex('00 00'), 5, MALFORMED);
  });

  it('packet type 15 is reserved in 3.1.1 (AUTH exists only in 5.0): malformed (0x81)', () => {
    assertRejected(hex('f0 00'), 4, MALFORMED);
  });
});

describe('decode errors: maximum packet size', () => {
  // 5.0 §3.1.2.11.4: the packet size is the total number of bytes in the packet, fixed header included.
  it('a packet of exactly maxPacketSize bytes is accepted, one byte more is "packet too large" (0x95)', () => {
    const ten = hex('30 08 00 03 61 2f 62 00 68 69');          // 10 bytes in all
    const eleven = hex('30 09 00 03 61 2f 62 00 68 69 21');    // 11 bytes in all
    decodeOne(ten, 5, 10);
    assertRejected(eleven, 5, TOO_LARGE, 10);
  });

  it('a 3.1.1 reader enforces maxPacketSize too (0x95)', () => {
    assertRejected(hex('30 08 00 03 61 2f 62 68 69 21'), 4, TOO_LARGE, 9);
  });

  it('an oversized packet is rejected from its fixed header alone, before its body is buffered', () => {
    const reader = new PacketReader({ protocolVersion: 5, maxPacketSize: 1024 });
    const err = reader.push(hex('30 ff ff 03'), () => undefined);    // announces ~64 KB
    assert.ok(err && err.reasonCode === TOO_LARGE, JSON.stringify(err));
  });
});

describe('decode errors: PUBLISH', () => {
  it('3.1.1 MQTT-3.3.1-4 / MQTT-3.3.1-4: QoS 3 in PUBLISH is malformed (0x81)', () => {
    assertRejected(hex('36 05 00 01 61 00 01'), 4, MALFORMED);
    assertRejected(hex('36 06 00 01 61 00 01 00'), 5, MALFORMED);
    assertRejected(hex('3f 06 00 01 61 00 01 00'), 5, MALFORMED);   // with DUP and RETAIN too
  });

  it('3.1.1 MQTT-2.3.1-1 / MQTT-2.2.1-3: packet identifier 0 in a QoS 1 or 2 PUBLISH is a protocol error (0x82)', () => {
    assertRejected(hex('32 05 00 01 61 00 00'), 4, PROTOCOL_ERROR);
    assertRejected(hex('34 05 00 01 61 00 00'), 4, PROTOCOL_ERROR);
    assertRejected(hex('32 06 00 01 61 00 00 00'), 5, PROTOCOL_ERROR);
  });

  it('3.1.1 MQTT-3.3.2-2 / MQTT-3.3.2-2: a wildcard in a PUBLISH topic is "topic name invalid" (0x90) in 5.0', () => {
    assertRejected(hex('30 06 00 03 61 2f 23 00'), 5, TOPIC_NAME_INVALID);   // "a/#"
    assertRejected(hex('30 06 00 03 2b 2f 61 00'), 5, TOPIC_NAME_INVALID);   // "+/a"
    assertRejected(hex('30 06 00 03 61 2b 62 00'), 5, TOPIC_NAME_INVALID);   // "a+b": '+' anywhere in a name
    assertRejected(hex('30 05 00 03 61 2f 23'), 4, null);                    // 3.1.1: closes the connection
  });

  it('5.0 §3.3.2.3.4: a zero-length topic without a topic alias is a protocol error (0x82)', () => {
    assertRejected(hex('30 03 00 00 00'), 5, PROTOCOL_ERROR);
    assertRejected(hex('30 08 00 00 05 02 00 00 00 01'), 5, PROTOCOL_ERROR);   // other properties, still no alias
  });

  it('3.1.1 MQTT-4.7.3-1: a zero-length topic name is rejected in 3.1.1', () => {
    assertRejected(hex('30 02 00 00'), 4, null);
  });

  it('MQTT-4.7.3-1: a CONNECT whose will topic is empty is "topic name invalid" (0x90) in 5.0; 3.1.1 closes the connection', () => {
    // found by the codec fuzz test: the reader took it, and a broker would have published the will to ""
    assertRejected(hex('10 14 00 04 4d 51 54 54 04 06 00 3c 00 03 73 70 31 00 00 00 01 78'), 4, null);
    assertRejected(hex('10 16 00 04 4d 51 54 54 05 06 00 3c 00 00 03 73 70 31 00 00 00 00 01 78'), 5, TOPIC_NAME_INVALID);
  });

  it('MQTT-3.3.2-8: topic alias 0 is a protocol error (0x82)', () => {
    assertRejected(hex('30 07 00 01 61 03 23 00 00'), 5, PROTOCOL_ERROR);
  });

  it('a QoS 1 PUBLISH too short to hold its packet identifier is malformed (0x81)', () => {
    assertRejected(hex('32 04 00 01 61 00'), 4, MALFORMED);
  });

  it('a PUBLISH whose topic length runs past the end of the packet is malformed (0x81)', () => {
    assertRejected(hex('30 03 00 05 61'), 4, MALFORMED);
    assertRejected(hex('30 03 00 05 61 c0 00'), 4, MALFORMED);   // bytes follow, but in the next packet
  });
});

describe('decode errors: UTF-8 strings', () => {
  // 3.1.1 §1.5.3 / 5.0 §1.5.4: well-formed UTF-8 (RFC 3629), no surrogates, no U+0000.
  const bad: [string, string][] = [
    ['byte 0xFF', '61 ff 62'],
    ['overlong 2-byte form of "/" (C0 AF)', '61 c0 af'],
    ['overlong 3-byte form (E0 80 AF)', 'e0 80 af'],
    ['a lone continuation byte', '61 80 62'],
    ['a 3-byte sequence cut short', '61 e2 82'],
    ['a code point above U+10FFFF (F4 90 80 80)', 'f4 90 80 80'],
  ];
  for (const [what, topic] of bad) {
    it('3.1.1 MQTT-1.5.3-1 / MQTT-1.5.4-1: ill-formed UTF-8 in a topic (' + what + ') is malformed (0x81)', () => {
      const t = hex(topic);
      assertRejected(new Uint8Array([0x30, 2 + t.length, 0, t.length, ...t]), 4, MALFORMED);
      assertRejected(new Uint8Array([0x30, 3 + t.length, 0, t.length, ...t, 0]), 5, MALFORMED);
    });
  }

  it('3.1.1 MQTT-1.5.3-1 / MQTT-1.5.4-1: an encoded surrogate U+D800 (ED A0 80) is malformed (0x81)', () => {
    assertRejected(hex('30 05 00 03 ed a0 80'), 4, MALFORMED);
    assertRejected(hex('30 06 00 03 ed a0 80 00'), 5, MALFORMED);
    assertRejected(hex('30 06 00 03 ed bf bf 00'), 5, MALFORMED);   // U+DFFF
  });

  it('3.1.1 MQTT-1.5.3-2 / MQTT-1.5.4-2: U+0000 in a topic is malformed (0x81)', () => {
    assertRejected(hex('30 05 00 03 61 00 62'), 4, MALFORMED);
    assertRejected(hex('30 06 00 03 61 00 62 00'), 5, MALFORMED);
  });

  it('MQTT-3.1.3-4: ill-formed UTF-8 in the CONNECT client identifier is malformed (0x81)', () => {
    assertRejected(hex('10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 73 ff 31'), 4, MALFORMED);
  });

  it('3.1.1 MQTT-3.8.3-1: U+0000 in a SUBSCRIBE topic filter is malformed (0x81)', () => {
    assertRejected(hex('82 06 00 01 00 01 00 00'), 4, MALFORMED);
  });

  it('MQTT-1.5.7-1: an encoded surrogate in a user property value is malformed (0x81)', () => {
    assertRejected(hex('30 0d 00 01 61 09 26 00 01 6b 00 03 ed a0 80'), 5, MALFORMED);
  });

  it('MQTT-1.5.4-3: the BOM sequence EF BB BF is read as U+FEFF and not stripped', () => {
    const p = decodeOne(hex('30 05 00 03 ef bb bf'), 4) as { topic: string };
    assert.equal(p.topic, '\ufeff');
  });

  it('U+D7FF and U+E000, next to the surrogate range, are accepted', () => {
    const p = decodeOne(hex('30 08 00 06 ed 9f bf ee 80 80'), 4) as { topic: string };
    assert.equal(p.topic, '\ud7ff\ue000');
  });
});

describe('decode errors: MQTT 5 properties', () => {
  it('a duplicate property (payload format indicator twice) is a protocol error (0x82)', () => {
    assertRejected(hex('30 08 00 01 61 04 01 01 01 01'), 5, PROTOCOL_ERROR);
  });

  it('§3.1.2.11.2: session expiry interval twice in CONNECT is a protocol error (0x82)', () => {
    assertRejected(connect5('0a 11 00 00 00 01 11 00 00 00 02'), 5, PROTOCOL_ERROR);
  });

  it('§3.8.2.1.2: subscription identifier twice in SUBSCRIBE is a protocol error (0x82)', () => {
    assertRejected(hex('82 0b 00 01 04 0b 01 0b 02 00 01 61 00'), 5, PROTOCOL_ERROR);
  });

  const notAllowed: [string, Uint8Array][] = [
    ['session expiry interval in PUBLISH', hex('30 09 00 01 61 05 11 00 00 00 01')],
    ['topic alias in CONNECT', connect5('03 23 00 01')],
    ['will delay interval in CONNECT (only in will properties)', connect5('05 18 00 00 00 05')],
    ['session expiry interval in will properties', connect5('00', '06', '00 03 73 70 31  05 11 00 00 00 05  00 01 77  00 01 78')],
    ['subscription identifier in PUBACK', hex('40 06 00 01 00 02 0b 01')],
    ['subscription identifier in UNSUBSCRIBE', hex('a2 08 00 01 02 0b 01 00 01 61')],
    ['topic alias in CONNACK', hex('20 06 00 00 03 23 00 01')],
    ['reason string in PUBLISH', hex('30 08 00 01 61 04 1f 00 01 78')],
    ['server reference in AUTH', hex('f0 07 18 05 1c 00 02 73 32')],
  ];
  for (const [what, bytes] of notAllowed) {
    it('§2.2.2.2: a property not valid for the packet type is malformed (0x81): ' + what, () => {
      assertRejected(bytes, 5, MALFORMED);
    });
  }

  it('§2.2.2.2: an unknown property identifier (0x04, 0x7F, 0x80 0x01) is malformed (0x81)', () => {
    assertRejected(hex('30 06 00 01 61 02 04 00'), 5, MALFORMED);
    assertRejected(hex('30 06 00 01 61 02 7f 00'), 5, MALFORMED);
    assertRejected(hex('30 07 00 01 61 03 80 01 00'), 5, MALFORMED);
  });

  it('a property length or a subscription identifier in more than 4 bytes is malformed (0x81)', () => {
    assertRejected(hex('30 08 00 01 61 80 80 80 80 00'), 5, MALFORMED);
    assertRejected(hex('82 0d 00 01 06 0b 80 80 80 80 01 00 01 61 00'), 5, MALFORMED);
  });

  it('a property length running past the end of the packet is malformed (0x81)', () => {
    assertRejected(hex('30 06 00 01 61 09 01 01'), 5, MALFORMED);
  });

  it('a property value running past the end of the property block is malformed (0x81)', () => {
    // property length 2, then a message expiry interval (4-byte integer) that would run into the payload
    assertRejected(hex('30 08 00 01 61 02 02 00 00 00'), 5, MALFORMED);
  });

  it('a user property with a name and no value is malformed (0x81)', () => {
    assertRejected(hex('30 08 00 01 61 04 26 00 01 6b'), 5, MALFORMED);
  });

  const badValues: [string, Uint8Array][] = [
    ['§3.1.2.11.3: receive maximum 0 in CONNECT', connect5('03 21 00 00')],
    ['§3.1.2.11.4: maximum packet size 0 in CONNECT', connect5('05 27 00 00 00 00')],
    ['§3.1.2.11.7: request problem information 2 in CONNECT', connect5('02 17 02')],
    ['§3.1.2.11.6: request response information 2 in CONNECT', connect5('02 19 02')],
    ['§3.1.2.11.10: authentication data without authentication method in CONNECT', connect5('04 16 00 01 01')],
    ['§3.2.2.3.4: maximum QoS 2 in CONNACK', hex('20 05 00 00 02 24 02')],
    ['§3.2.2.3.5: retain available 2 in CONNACK', hex('20 05 00 00 02 25 02')],
    ['§3.8.2.1.2: subscription identifier 0 in SUBSCRIBE', hex('82 09 00 01 02 0b 00 00 01 61 00')],
  ];
  for (const [what, bytes] of badValues) {
    it('a property value the specification forbids is a protocol error (0x82): ' + what, () => {
      assertRejected(bytes, 5, PROTOCOL_ERROR);
    });
  }
});

describe('decode errors: CONNECT', () => {
  it('3.1.1 MQTT-3.1.2-3 / MQTT-3.1.2-3: CONNECT with the reserved flag bit 0 set is malformed (0x81)', () => {
    assertRejected(hex('10 0f 00 04 4d 51 54 54 04 03 00 3c 00 03 73 70 31'), 4, MALFORMED);
    assertRejected(connect5('00', '03'), 5, MALFORMED);
  });

  it('3.1.1 MQTT-3.1.2-2 / MQTT-3.1.2-2: an unsupported protocol level (6, 0) is "unsupported protocol version" (0x84)', () => {
    assertRejected(hex('10 0f 00 04 4d 51 54 54 06 02 00 3c 00 03 73 70 31'), 4, UNSUPPORTED_VERSION);
    assertRejected(hex('10 0f 00 04 4d 51 54 54 00 02 00 3c 00 03 73 70 31'), 5, UNSUPPORTED_VERSION);
  });

  it('MQTT-3.1.2-1: a protocol name other than "MQTT" is rejected', () => {
    assertRejected(hex('10 0f 00 04 4d 51 54 58 04 02 00 3c 00 03 73 70 31'), 4, [MALFORMED, PROTOCOL_ERROR, UNSUPPORTED_VERSION]);
  });

  it('MQTT-3.1.2-12 / 3.1.1 MQTT-3.1.2-14: will QoS 3 is malformed (0x81)', () => {
    assertRejected(connect5('00', '1e', '00 03 73 70 31  00  00 01 77  00 01 78'), 5, MALFORMED);
    assertRejected(hex('10 15 00 04 4d 51 54 54 04 1e 00 3c 00 03 73 70 31 00 01 77 00 01 78'), 4, MALFORMED);
  });

  it('MQTT-3.1.2-11 / 3.1.1 MQTT-3.1.2-13: will QoS set without the will flag is malformed (0x81)', () => {
    assertRejected(connect5('00', '0a'), 5, MALFORMED);
    assertRejected(hex('10 0f 00 04 4d 51 54 54 04 0a 00 3c 00 03 73 70 31'), 4, MALFORMED);
  });

  it('MQTT-3.1.2-13 / 3.1.1 MQTT-3.1.2-15: will retain set without the will flag is malformed (0x81)', () => {
    assertRejected(connect5('00', '22'), 5, MALFORMED);
    assertRejected(hex('10 0f 00 04 4d 51 54 54 04 22 00 3c 00 03 73 70 31'), 4, MALFORMED);
  });

  it('3.1.1 MQTT-3.1.2-22: a password without a user name is rejected in 3.1.1', () => {
    assertRejected(hex('10 12 00 04 4d 51 54 54 04 42 00 3c 00 03 73 70 31 00 01 70'), 4, null);
  });

  it('a client identifier length running past the end of the packet is malformed (0x81)', () => {
    assertRejected(hex('10 0f 00 04 4d 51 54 54 04 02 00 3c 00 09 73 70 31'), 4, MALFORMED);
  });

  it('a user name flag with no user name field is malformed (0x81)', () => {
    assertRejected(hex('10 0f 00 04 4d 51 54 54 04 82 00 3c 00 03 73 70 31'), 4, MALFORMED);
  });

  it('bytes left over after the last CONNECT field are malformed (0x81)', () => {
    assertRejected(hex('10 10 00 04 4d 51 54 54 04 02 00 3c 00 03 73 70 31 ff'), 4, MALFORMED);
  });
});

describe('decode errors: CONNACK', () => {
  it('MQTT-3.2.2-1: reserved acknowledge flag bits 7-1 set is malformed (0x81)', () => {
    assertRejected(hex('20 02 02 00'), 4, MALFORMED);
    assertRejected(hex('20 03 80 00 00'), 5, MALFORMED);
  });

  it('a 3.1.1 CONNACK whose remaining length is not 2 is malformed (0x81)', () => {
    assertRejected(hex('20 03 00 00 00'), 4, MALFORMED);
    assertRejected(hex('20 01 00'), 4, MALFORMED);
  });

  it('MQTT-3.2.2-8: a CONNACK reason code not in the table (0x01) is rejected', () => {
    assertRejected(hex('20 03 00 01 00'), 5, BAD_REASON);
  });
});

describe('decode errors: acknowledgements', () => {
  it('MQTT-3.4.2-1: PUBACK with a reason code not in its table (0x01, 0x92) is rejected', () => {
    assertRejected(hex('40 03 00 01 01'), 5, BAD_REASON);
    assertRejected(hex('40 03 00 01 92'), 5, BAD_REASON);
  });

  it('MQTT-3.5.2-1: PUBREC with reason 0x92 (a PUBREL/PUBCOMP code) is rejected', () => {
    assertRejected(hex('50 03 00 01 92'), 5, BAD_REASON);
  });

  it('MQTT-3.6.2-1 / MQTT-3.7.2-1: PUBREL and PUBCOMP with reason 0x10 (a PUBACK code) are rejected', () => {
    assertRejected(hex('62 03 00 01 10'), 5, BAD_REASON);
    assertRejected(hex('70 03 00 01 10'), 5, BAD_REASON);
  });

  it('3.1.1 MQTT-3.9.3-2 / MQTT-3.9.3-2: SUBACK with an undefined return/reason code (0x03) is rejected', () => {
    assertRejected(hex('90 03 00 01 03'), 4, null);
    assertRejected(hex('90 04 00 01 00 03'), 5, BAD_REASON);
  });

  it('MQTT-3.11.3-2: UNSUBACK with an undefined reason code (0x01) is rejected', () => {
    assertRejected(hex('b0 04 00 01 00 01'), 5, BAD_REASON);
  });

  it('MQTT-3.14.2-1: DISCONNECT with an undefined reason code (0x01) is rejected', () => {
    assertRejected(hex('e0 01 01'), 5, BAD_REASON);
  });

  it('MQTT-3.15.2-1: AUTH with an undefined reason code (0x01) is rejected', () => {
    assertRejected(hex('f0 02 01 00'), 5, BAD_REASON);
  });

  it('a PUBACK shorter than its packet identifier is malformed (0x81)', () => {
    assertRejected(hex('40 01 00'), 4, MALFORMED);
    assertRejected(hex('40 01 00'), 5, MALFORMED);
    assertRejected(hex('40 00'), 5, MALFORMED);
  });

  it('a 3.1.1 PUBACK / UNSUBACK with bytes after the packet identifier is malformed (0x81)', () => {
    assertRejected(hex('40 03 00 01 00'), 4, MALFORMED);
    assertRejected(hex('b0 03 00 01 00'), 4, MALFORMED);
  });
});

describe('decode errors: SUBSCRIBE and UNSUBSCRIBE', () => {
  it('3.1.1 MQTT-3.8.3-3 / MQTT-3.8.3-2: SUBSCRIBE with no topic filter is a protocol error (0x82)', () => {
    assertRejected(hex('82 02 00 01'), 4, PROTOCOL_ERROR);
    assertRejected(hex('82 03 00 01 00'), 5, PROTOCOL_ERROR);
  });

  it('MQTT-3.10.3-2: UNSUBSCRIBE with no topic filter is a protocol error (0x82)', () => {
    assertRejected(hex('a2 02 00 01'), 4, PROTOCOL_ERROR);
    assertRejected(hex('a2 03 00 01 00'), 5, PROTOCOL_ERROR);
  });

  it('3.1.1 MQTT-2.3.1-1 / MQTT-2.2.1-3: SUBSCRIBE and UNSUBSCRIBE with packet identifier 0 are a protocol error (0x82)', () => {
    assertRejected(hex('82 06 00 00 00 01 61 00'), 4, PROTOCOL_ERROR);
    assertRejected(hex('a2 05 00 00 00 01 61'), 4, PROTOCOL_ERROR);
    assertRejected(hex('82 07 00 00 00 00 01 61 00'), 5, PROTOCOL_ERROR);
  });

  it('3.1.1 MQTT-3.8.3-4: requested QoS 3 or reserved bits in a 3.1.1 SUBSCRIBE are malformed (0x81)', () => {
    assertRejected(hex('82 06 00 01 00 01 61 03'), 4, MALFORMED);
    assertRejected(hex('82 06 00 01 00 01 61 04'), 4, MALFORMED);
  });

  it('MQTT-3.8.3-5: reserved subscription option bits 6-7 are malformed (0x81)', () => {
    assertRejected(hex('82 07 00 01 00 00 01 61 c0'), 5, MALFORMED);
    assertRejected(hex('82 07 00 01 00 00 01 61 41'), 5, MALFORMED);
  });

  it('5.0 §3.8.3.1: maximum QoS 3 in subscription options is a protocol error (0x82)', () => {
    assertRejected(hex('82 07 00 01 00 00 01 61 03'), 5, PROTOCOL_ERROR);
  });

  it('5.0 §3.8.3.1: retain handling 3 in subscription options is a protocol error (0x82)', () => {
    assertRejected(hex('82 07 00 01 00 00 01 61 30'), 5, PROTOCOL_ERROR);
  });

  it('a topic filter running past the end of the packet, or missing its options byte, is malformed (0x81)', () => {
    assertRejected(hex('82 06 00 01 00 05 61 00'), 4, MALFORMED);
    assertRejected(hex('82 05 00 01 00 01 61'), 4, MALFORMED);
  });
});

describe('decode errors: packets without a body', () => {
  it('PINGREQ with a non-zero remaining length is malformed (0x81)', () => {
    assertRejected(hex('c0 01 00'), 4, MALFORMED);
    assertRejected(hex('c0 01 00'), 5, MALFORMED);
  });

  it('PINGRESP with a non-zero remaining length is malformed (0x81)', () => {
    assertRejected(hex('d0 01 00'), 4, MALFORMED);
  });

  it('a 3.1.1 DISCONNECT with a non-zero remaining length is malformed (0x81)', () => {
    assertRejected(hex('e0 01 00'), 4, MALFORMED);
  });

  it('a 5.0 DISCONNECT whose property length runs past the end is malformed (0x81)', () => {
    assertRejected(hex('e0 02 00 05'), 5, MALFORMED);
  });
});
