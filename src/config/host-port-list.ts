import { ValidateBy, type ValidationOptions } from 'class-validator';

export interface HostPort {
  host: string;
  port: number;
}

// A DNS name or IPv4 address, or an IPv6 address in brackets (`[::1]:7000`), then `:port`.
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/**
 * Parses `host:port[,host:port…]` (spaces around commas allowed). Returns undefined when any entry is
 * malformed or its port is outside 1–65535, so the caller can refuse the whole value.
 */
export function parseHostPortList(value: string): HostPort[] | undefined {
  const entries = value.split(',').map((s) => s.trim());
  const nodes: HostPort[] = [];
  for (const entry of entries) {
    const m = HOST_PORT.exec(entry);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) return undefined;
    nodes.push({ host: m[1].replace(/^\[(.*)\]$/, '$1'), port });
  }
  return nodes;
}

/** class-validator decorator: a non-empty `host:port` list as `parseHostPortList` reads it. */
export function IsHostPortList(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isHostPortList',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parseHostPortList(value) !== undefined,
        defaultMessage: () => 'must be comma-separated host:port seeds, e.g. redis-1:6379,redis-2:6379',
      },
    },
    options,
  );
}
