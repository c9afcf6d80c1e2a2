#include "node/p2p/tls.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace civitas::p2p {
namespace {

std::string OpenSslError(const char* what) {
  unsigned long e = ERR_get_error();
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  return std::string(what) + ": " + buf;
}

}  // namespace

Result<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext() {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls);
  SSL_CTX* native = ctx->native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(native, TLS1_3_VERSION) != 1) {
    return Status::Error(Status::Code::kInternal, "tls", OpenSslError("TLS 1.3 unavailable"));
  }
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  ctx->set_verify_mode(ssl::verify_none);

  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"), EVP_PKEY_free);
  if (!key)
    return Status::Error(Status::Code::kInternal, "tls", OpenSslError("TLS key generation"));
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!cert) return Status::Error(Status::Code::kInternal, "tls", OpenSslError("TLS certificate"));
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = X509_set_version(cert.get(), 2) == 1 &&
            ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1) == 1 &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), -24L * 3600) != nullptr &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3650L * 24 * 3600) != nullptr &&
            X509_set_pubkey(cert.get(), key.get()) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>("civitas-p2p"), -1,
                                       -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 &&
            X509_sign(cert.get(), key.get(), nullptr) > 0 &&
            SSL_CTX_use_certificate(native, cert.get()) == 1 &&
            SSL_CTX_use_PrivateKey(native, key.get()) == 1;
  if (!ok) return Status::Error(Status::Code::kInternal, "tls", OpenSslError("TLS certificate"));
  return ctx;
}

Result<SessionBinding> ExportBinding(SSL* ssl) {
  SessionBinding out{};
  if (SSL_version(ssl) != TLS1_3_VERSION ||
      SSL_export_keying_material(ssl, out.data(), out.size(), kExporterLabel.data(),
                                 kExporterLabel.size(), nullptr, 0, 0) != 1) {
    return Status::Error(Status::Code::kInternal, "tls", OpenSslError("TLS exporter"));
  }
  return out;
}

}  // namespace civitas::p2p
