// MQTT URLs: mqtt://host:port, mqtts://host:port, ws://host:port/path, wss://host:port/path.
// A small parser of our own: Espruino has no URL class, and url.parse is Node's.

export interface BrokerUrl {
  protocol: 'mqtt' | 'mqtts' | 'ws' | 'wss';
  host: string;
  port: number;
  path: string;
}

const DEFAULT_PORTS: { [protocol: string]: number } = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

/**
 * Parses a broker URL; returns null when it is not one. Written with indexOf, not a regular expression:
 * Espruino's regex engine fails on alternation and optional groups (`/^(mqtts?|wss?):/` finds nothing).
 */
export function parseBrokerUrl(url: string): BrokerUrl | null {
  const colon = url.indexOf('://');
  const protocol = url.substring(0, colon);
  if (colon < 0 || !DEFAULT_PORTS[protocol]) return null;
  let rest = url.substring(colon + 3);
  let slash = rest.indexOf('/');
  if (slash < 0) slash = rest.length;
  const path = rest.substring(slash);
  rest = rest.substring(0, slash);
  let host = rest, port = DEFAULT_PORTS[protocol];
  const bracket = rest.lastIndexOf(']');
  const portColon = rest.lastIndexOf(':');
  if (portColon > bracket) {
    const digits = rest.substring(portColon + 1);
    port = parseInt(digits, 10);
    if (String(port) !== digits || port < 1 || port > 65535) return null;
    host = rest.substring(0, portColon);
  }
  if (host.charAt(0) === '[' && host.charAt(host.length - 1) === ']') host = host.substring(1, host.length - 1);
  if (!host || /* no user info, query or fragment */ (host + path).indexOf('@') >= 0 || (host + path).indexOf('?') >= 0 || (host + path).indexOf('#') >= 0) return null;
  return { protocol: protocol as BrokerUrl['protocol'], host: host, port: port, path: path || (protocol.charAt(0) === 'w' ? '/mqtt' : '') };
}
