import dns2 from 'dns2';

const { Packet } = dns2;

/** One resource record the local DNS server answers with. */
export interface ZoneRecord {
  name: string;
  type: 'TXT' | 'CNAME' | 'MX';
  /** TXT: the text (split into 255-octet strings on the wire); CNAME: the target; MX: the exchange. */
  value: string;
  /** MX preference (default 10). */
  priority?: number;
}

export interface LocalDnsServer {
  /** `127.0.0.1:<port>`: give it to `dns.Resolver#setServers`. */
  address: string;
  port: number;
  /** Replaces the records served (a zone edit takes effect at the next query). */
  setRecords(records: readonly ZoneRecord[]): void;
  close(): Promise<void>;
}

const TYPES = { TXT: Packet.TYPE.TXT, CNAME: Packet.TYPE.CNAME, MX: Packet.TYPE.MX } as const;

const norm = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** A TXT value as DNS character-strings of at most 255 octets each (RFC 1035 §3.3.14). */
function characterStrings(text: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += 255) out.push(text.slice(i, i + 255));
  return out.length ? out : [''];
}

/**
 * An authoritative DNS server over UDP (npm `dns2`) for the names it is given: the stand-in for the tenants' public
 * DNS, so the sender-auth checks look records up through the DNS protocol, as they do in AWS. A name it knows
 * without the asked type answers NOERROR with no records; an unknown name answers NXDOMAIN. A CNAME is answered for
 * any type asked at its name, as a server does.
 */
export async function startDnsServer(opts: {
  records: readonly ZoneRecord[];
  port?: number;
  host?: string;
}): Promise<LocalDnsServer> {
  let byName = new Map<string, ZoneRecord[]>();
  const setRecords = (records: readonly ZoneRecord[]) => {
    const next = new Map<string, ZoneRecord[]>();
    for (const r of records) next.set(norm(r.name), [...(next.get(norm(r.name)) ?? []), r]);
    byName = next;
  };
  setRecords(opts.records);
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      response.header.aa = 1;
      const q = request.questions[0];
      const records = q ? byName.get(norm(q.name)) : undefined;
      if (!q || !records) {
        response.header.rcode = Packet.RCODE.NXDOMAIN;
        void send(response);
        return;
      }
      for (const r of records) {
        if (TYPES[r.type] !== q.type && r.type !== 'CNAME') continue;
        const base = { name: q.name, type: TYPES[r.type], class: Packet.CLASS.IN, ttl: 300 };
        const fields =
          r.type === 'TXT'
            ? { data: characterStrings(r.value) }
            : r.type === 'CNAME'
              ? { domain: r.value }
              : { exchange: r.value, priority: r.priority ?? 10 };
        response.answers.push(new Packet.Resource({ ...base, ...fields }));
      }
      void send(response);
    },
  });
  const host = opts.host ?? '127.0.0.1';
  const addresses = await server.listen({ udp: { port: opts.port ?? 0, address: host } });
  const port = addresses.udp?.port ?? 0;
  return {
    address: `${host}:${port}`,
    port,
    setRecords,
    close: () => server.close(),
  };
}
