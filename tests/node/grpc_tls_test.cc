// Citizens' gRPC over TLS (issue 23): a node with grpc.tls_cert/tls_key serves only TLS clients
// that trust its certificate, and a node refuses plaintext gRPC or HTTP beyond loopback unless
// its operator accepts it in so many words.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>

#include "civitas/v1/node.grpc.pb.h"
#include "node/config.h"
#include "node/node.h"
#include "node_client.h"
#include "test_chain.h"
#include "tests/test_files.h"

namespace civitas::node {
namespace {

using civitas::testing::ReadAll;

// A self-signed P-256 certificate for "localhost" and 127.0.0.1, written as PEM files.
void WriteSelfSignedCert(const std::string& cert_path, const std::string& key_path) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(key, nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                            std::pair{NID_basic_constraints, "critical,CA:TRUE"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  ASSERT_GT(X509_sign(cert, key, EVP_sha256()), 0);
  FILE* f = std::fopen(cert_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_X509(f, cert);
  std::fclose(f);
  f = std::fopen(key_path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  X509_free(cert);
  EVP_PKEY_free(key);
}

class GrpcTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = civitas::testing::TestDir("grpc-tls");
    std::filesystem::create_directories(home_ + "/config");
    WriteSelfSignedCert(home_ + "/config/grpc.crt", home_ + "/config/grpc.key");
  }
  void TearDown() override {
    if (node_) node_->Stop();
    node_.reset();
    std::filesystem::remove_all(home_);
  }
  Config TestConfig() {
    Config c;
    c.home = home_;
    c.grpc_listen = "127.0.0.1:0";
    c.http_listen = "127.0.0.1:0";
    c.p2p_listen = "127.0.0.1:0";
    c.block_interval_ms = 20;
    c.timeout_base_ms = 500;
    return c;
  }
  grpc::Status Status(const std::shared_ptr<grpc::ChannelCredentials>& creds,
                      const std::string& host) {
    auto stub = v1::Node::NewStub(
        grpc::CreateChannel(host + ":" + std::to_string(node_->grpc_port()), creds));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    v1::GetStatusResponse resp;
    return stub->GetStatus(&ctx, {}, &resp);
  }

  civitas::testing::TestChain chain_ = civitas::testing::MakeTestChain(1, 1000);
  std::string home_;
  std::unique_ptr<Node> node_;
};

TEST_F(GrpcTlsTest, TlsNodeServesClientsThatTrustItsCertificateOnly) {
  Config c = TestConfig();
  c.grpc_tls_cert = "grpc.crt";  // relative to HOME/config
  c.grpc_tls_key = home_ + "/config/grpc.key";
  ASSERT_TRUE(ValidateConfig(c).ok());
  auto node = Node::Open(c, chain_.genesis, chain_.validators[0]);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  node_ = std::move(*node);
  ASSERT_TRUE(node_->Start().ok());

  grpc::SslCredentialsOptions trusted;
  trusted.pem_root_certs = ReadAll(home_ + "/config/grpc.crt");
  EXPECT_TRUE(Status(grpc::SslCredentials(trusted), "localhost").ok());
  EXPECT_TRUE(Status(grpc::SslCredentials(trusted), "127.0.0.1").ok());
  // A plaintext client, and a TLS client that trusts other roots, get nothing.
  EXPECT_EQ(Status(grpc::InsecureChannelCredentials(), "127.0.0.1").error_code(),
            grpc::StatusCode::UNAVAILABLE);
  grpc::SslCredentialsOptions stranger;
  WriteSelfSignedCert(home_ + "/config/other.crt", home_ + "/config/other.key");
  stranger.pem_root_certs = ReadAll(home_ + "/config/other.crt");
  EXPECT_EQ(Status(grpc::SslCredentials(stranger), "localhost").error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcTlsTest, UnreadableCertificateIsAClearError) {
  Config c = TestConfig();
  c.grpc_tls_cert = "missing.crt";
  c.grpc_tls_key = "grpc.key";
  auto node = Node::Open(c, chain_.genesis, chain_.validators[0]);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  node_ = std::move(*node);
  civitas::Status s = node_->Start();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("grpc.tls_cert"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("missing.crt"), std::string::npos) << s.ToString();
}

TEST(PlaintextBeyondLoopbackTest, IsRefusedUnlessTheOperatorAcceptsIt) {
  Config c;
  EXPECT_TRUE(ValidateConfig(c).ok());  // the defaults listen on loopback
  c.grpc_listen = "0.0.0.0:26657";
  civitas::Status s = ValidateConfig(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("grpc.insecure"), std::string::npos) << s.ToString();
  c.grpc_insecure = true;
  EXPECT_TRUE(ValidateConfig(c).ok());
  c.grpc_insecure = false;
  c.grpc_tls_cert = "grpc.crt";
  EXPECT_FALSE(ValidateConfig(c).ok());  // a certificate without its key
  c.grpc_tls_key = "grpc.key";
  EXPECT_TRUE(ValidateConfig(c).ok());

  c.http_listen = "192.0.2.10:26660";  // an address beyond loopback (TEST-NET-1)
  s = ValidateConfig(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("http.insecure"), std::string::npos) << s.ToString();
  c.http_insecure = true;
  EXPECT_TRUE(ValidateConfig(c).ok());

  for (const char* loopback : {"127.0.0.1:1", "127.0.0.12:1", "localhost:1", "[::1]:1"}) {
    EXPECT_TRUE(IsLoopbackListen(loopback)) << loopback;
  }
  for (const char* open : {"0.0.0.0:1", "[::]:1", "10.0.0.1:1", "example.org:1"}) {
    EXPECT_FALSE(IsLoopbackListen(open)) << open;
  }
}

}  // namespace
}  // namespace civitas::node
