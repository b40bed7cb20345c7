#ifndef MLCORE_CZLIB_SHIM_H
#define MLCORE_CZLIB_SHIM_H
#include <zlib.h>
#endif
