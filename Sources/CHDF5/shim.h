#ifndef MLCORE_CHDF5_SHIM_H
#define MLCORE_CHDF5_SHIM_H
#include <hdf5.h>

/* HDF5 exposes these as macros that expand to function calls or global ids;
   Swift cannot import them, so they are wrapped as static inline functions. */
static inline unsigned mlh5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned mlh5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned mlh5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned mlh5_acc_excl(void) { return H5F_ACC_EXCL; }
static inline hid_t mlh5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t mlh5_s_all(void) { return H5S_ALL; }
static inline hid_t mlh5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t mlh5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t mlh5_p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t mlh5_p_group_create(void) { return H5P_GROUP_CREATE; }
static inline hid_t mlh5_p_attribute_create(void) { return H5P_ATTRIBUTE_CREATE; }
static inline hid_t mlh5_t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t mlh5_t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t mlh5_t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t mlh5_t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t mlh5_t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t mlh5_t_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t mlh5_t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t mlh5_t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t mlh5_t_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t mlh5_t_native_uint64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t mlh5_t_native_hbool(void) { return H5T_NATIVE_HBOOL; }
static inline hid_t mlh5_t_ieee_f16le_create(void) {
    /* IEEE half precision, little-endian: derived from f32 as h5py/numpy do. */
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    H5Tset_fields(t, 15, 10, 5, 0, 10);
    H5Tset_size(t, 2);
    H5Tset_ebias(t, 15);
    return t;
}
static inline hid_t mlh5_t_c_s1(void) { return H5T_C_S1; }
static inline hid_t mlh5_e_default(void) { return H5E_DEFAULT; }
static inline size_t mlh5_variable(void) { return H5T_VARIABLE; }
static inline hsize_t mlh5_unlimited(void) { return H5S_UNLIMITED; }
static inline herr_t mlh5_object_address(hid_t obj, unsigned long *fileno, haddr_t *addr) {
    /* File number and header address: an object's identity, used to visit each object once in a
       walk (hard links can form cycles). 1.10 API; 1.12 replaced `addr` by a token. */
    H5O_info_t info;
    herr_t status = H5Oget_info2(obj, &info, H5O_INFO_BASIC);
    if (status >= 0) { *fileno = info.fileno; *addr = info.addr; }
    return status;
}
#endif
