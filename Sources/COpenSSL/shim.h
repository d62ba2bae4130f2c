#ifndef DRCTL_COPENSSL_SHIM_H
#define DRCTL_COPENSSL_SHIM_H
/* The low-level SHA-256 API is deprecated in OpenSSL 3 but remains the fastest way to reuse a
   precomputed HMAC state (copying a SHA256_CTX), which SigV4 signing does on its hot path. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/sha.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/rsa.h>
#endif
