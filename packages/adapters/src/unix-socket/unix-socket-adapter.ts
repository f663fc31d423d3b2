import { native } from '@rxipc/native';

import { defineAdapter, type MessageAdapter, type StreamAdapter } from '../adapter.js';
import type { MessageTransport } from '../channel/transport.js';
import { clientSocket } from './connect.js';
import { dgramListener } from './dgram-listener.js';
import { unixListener } from './listener.js';
import { unixMessageTransport } from './message-transport.js';
import { unixStreamTransport } from './stream-transport.js';
import { parseUnixUri, unixOptions, type UnixSocketEndpoint } from './uri.js';

/**
 * `unix:/path` (or `unix:@name`, Linux's abstract namespace): a Unix stream socket. `open`
 * connects as a client; `listen` binds, and yields each accepted connection with the peer's
 * pid, uid and gid. Byte-stream framing applies. Descriptors travel with frames
 * (`withFds`/`takeFds`; receiving needs `?maxFds=N`). `unix:?fd=3` uses an inherited,
 * connected socket.
 *
 * @example
 * ```ts
 * open('unix:/run/app.sock?framing=line').subscribe((line) => console.log(line));
 * ```
 */
export const unixStreamAdapter: StreamAdapter<UnixSocketEndpoint> =
  defineAdapter<UnixSocketEndpoint>({
    scheme: 'unix',
    kind: 'stream',
    description: 'a Unix stream socket: unix:/run/app.sock, unix:@name (listen() to serve)',
    options: unixOptions('stream'),
    parse: parseUnixUri('stream'),
    connect: (endpoint) => unixStreamTransport(endpoint, clientSocket(endpoint, native), native),
    listen: (endpoint) => unixListener(endpoint, native),
  }) as StreamAdapter<UnixSocketEndpoint>;

/**
 * `unix-seqpacket:/path`: a Unix seqpacket socket, connection-oriented like a stream and
 * keeping message boundaries like a datagram: one kernel message per channel message, no
 * framing. An empty message cannot be sent (it would read as end of stream).
 *
 * @example
 * ```ts
 * listen('unix-seqpacket:/run/jobs.sock').subscribe((peer) => peer.subscribe(console.log));
 * ```
 */
export const unixSeqpacketAdapter: MessageAdapter<UnixSocketEndpoint> =
  defineAdapter<UnixSocketEndpoint>({
    scheme: 'unix-seqpacket',
    kind: 'message',
    description: 'a Unix seqpacket socket: unix-seqpacket:/run/app.sock (listen() to serve)',
    options: unixOptions('seqpacket'),
    parse: parseUnixUri('seqpacket'),
    connect: (endpoint) => unixMessageTransport(endpoint, clientSocket(endpoint, native), native),
    listen: (endpoint) => unixListener<MessageTransport>(endpoint, native),
  }) as MessageAdapter<UnixSocketEndpoint>;

/**
 * `unix-dgram:/path`: a Unix datagram socket. `open` binds to a kernel-chosen abstract name
 * (so replies can come back) and connects to the path; `listen` binds the path and yields one
 * connection per sending address. There is no end of stream unless `?eof=empty` (an empty
 * datagram then ends it, and `complete()` sends one). A datagram larger than the socket can
 * carry is an error naming the limit.
 *
 * @example
 * ```ts
 * open('unix-dgram:/run/log.sock').next(new TextEncoder().encode('a datagram'));
 * ```
 */
export const unixDgramAdapter: MessageAdapter<UnixSocketEndpoint> =
  defineAdapter<UnixSocketEndpoint>({
    scheme: 'unix-dgram',
    kind: 'message',
    description: 'a Unix datagram socket: unix-dgram:/run/app.sock (listen() to receive)',
    options: unixOptions('dgram'),
    parse: parseUnixUri('dgram'),
    connect: (endpoint) => unixMessageTransport(endpoint, clientSocket(endpoint, native), native),
    listen: (endpoint) => dgramListener(endpoint, native),
  }) as MessageAdapter<UnixSocketEndpoint>;
