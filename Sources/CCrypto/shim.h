#ifndef MLCORE_CCRYPTO_SHIM_H
#define MLCORE_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#endif
