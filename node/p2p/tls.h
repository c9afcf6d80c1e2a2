#pragma once

// Private to node/p2p/: the TLS 1.3 layer under the transport (docs/P2P.md, "Channel security").
//
// TLS gives each link confidentiality and integrity; it does not say who is at the other end.
// Every transport holds one ephemeral self-signed Ed25519 certificate, made at Start and never
// checked by peers: the council identity is proven inside the session instead, by a BIP-340
// signature over the session's exporter value (wire.h, AuthSigningBytes).

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "ledger/status.h"
#include "node/p2p/wire.h"

namespace civitas::p2p {

// A context for both ends of a connection (the dialer is the TLS client): TLS 1.3 only, no
// session tickets or resumption, a fresh key and certificate, peer certificates not verified.
Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext();

// The session's exporter value (RFC 8446 section 7.5) with label kExporterLabel and an empty
// context. Fails if the handshake has not completed.
Result<SessionBinding> ExportBinding(SSL* ssl);

}  // namespace civitas::p2p
