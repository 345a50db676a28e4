//! Unix datagram / seqpacket sockets (filled by the interface-types work)
