import { strict as assert } from 'assert';
import { parseBrokerUrl } from '../firmware/url';

describe('broker URLs (firmware/url, parsed without regular expressions for Espruino)', () => {
  const cases: Array<[string, object | null]> = [
    ['mqtt://127.0.0.1:18831', { protocol: 'mqtt', host: '127.0.0.1', port: 18831, path: '' }],
    ['mqtt://broker.local', { protocol: 'mqtt', host: 'broker.local', port: 1883, path: '' }],
    ['mqtts://h', { protocol: 'mqtts', host: 'h', port: 8883, path: '' }],
    ['ws://h', { protocol: 'ws', host: 'h', port: 80, path: '/mqtt' }],
    ['ws://h:8080/x/y', { protocol: 'ws', host: 'h', port: 8080, path: '/x/y' }],
    ['wss://[::1]:443/mqtt', { protocol: 'wss', host: '::1', port: 443, path: '/mqtt' }],
    ['mqtt://[::1]', { protocol: 'mqtt', host: '::1', port: 1883, path: '' }],
  ];
  for (const [url, want] of cases) {
    it(`${url} → ${JSON.stringify(want)}`, () => assert.deepEqual(parseBrokerUrl(url), want));
  }
  for (const url of ['http://h', 'mqtt://', 'mqtt:/h', 'mqtt://h:0', 'mqtt://h:65536', 'mqtt://h:12x', 'mqtt://u:p@h', 'ws://h/p?q=1', 'ws://h/#f', '']) {
    it(`refuses ${JSON.stringify(url)}`, () => assert.equal(parseBrokerUrl(url), null));
  }
});
