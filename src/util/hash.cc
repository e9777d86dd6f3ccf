#include "util/hash.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace retort {

namespace {

// OpenSSL 3 looks the algorithm up (EVP_MD_fetch) and sets up a context on every one-shot
// EVP_Digest call, which costs more than hashing a short key. Both are kept: the fetched
// SHA-256 for the process, a context per thread.
const EVP_MD* sha256_md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct DigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
};

std::string to_hex(const unsigned char* digest, unsigned int len) {
  static const char* kHex = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  if (!ctx || !sha256_md() || !EVP_DigestInit_ex2(ctx, sha256_md(), nullptr)) {
    EVP_MD_CTX_free(ctx);
    throw std::runtime_error("OpenSSL: cannot start a SHA-256 digest");
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_));
}

Sha256& Sha256::add(std::string_view piece) {
  if (!EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), piece.data(), piece.size()))
    throw std::runtime_error("OpenSSL: SHA-256 update failed");
  return *this;
}

std::string Sha256::hex() {
  auto* ctx = static_cast<EVP_MD_CTX*>(ctx_);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!EVP_DigestFinal_ex(ctx, digest, &len) || !EVP_DigestInit_ex2(ctx, sha256_md(), nullptr))
    throw std::runtime_error("OpenSSL: SHA-256 final failed");
  return to_hex(digest, len);
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  thread_local DigestContext holder;
  EVP_MD_CTX* ctx = holder.ctx;
  const EVP_MD* md = sha256_md();
  if (!ctx || !md || !EVP_DigestInit_ex2(ctx, md, nullptr) ||
      !EVP_DigestUpdate(ctx, data.data(), data.size()) || !EVP_DigestFinal_ex(ctx, digest, &len)) {
    EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  }
  return to_hex(digest, len);
}

}  // namespace retort
