import type { Link, LinkHandlers, Transport } from "./transport.js";

/**
 * Several servers as one Transport: the nodes of a cluster, any of which can serve the client.
 * Each connection tries the next server in turn once the last one's link has ended, so when a
 * node dies its clients reconnect (with the client's backoff) to another and resume there.
 * Browser-safe.
 */
export function failoverTransport(servers: readonly Transport[]): Transport {
  if (servers.length === 0) throw new Error("failoverTransport: no server");
  if (servers.length === 1) return servers[0]!;
  let next = 0;
  return {
    description: servers.map((s) => s.description).join(", "),
    open(handlers: LinkHandlers): Link {
      const server = servers[next % servers.length]!;
      return server.open({
        onOpen: () => handlers.onOpen(),
        onFrame: (text) => handlers.onFrame(text),
        onClose: (error) => {
          // whatever ended this link, the next connection goes to the next server
          next = (servers.indexOf(server) + 1) % servers.length;
          handlers.onClose(error);
        },
      });
    },
  };
}
