// HDF5 1.10.8 alone, without Loom: H5Lexists on h5lexists_btree2_segv.h5 crashes (fuzz/README.md).
//   gcc h5lexists.c -o h5lexists $(pkg-config --cflags --libs hdf5)
//   ./h5lexists h5lexists_btree2_segv.h5 sec2     (or core, meta0: the same SIGSEGV)
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char** argv) {
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
  if (!strcmp(argv[2], "core")) H5Pset_fapl_core(fapl, 1 << 20, 0);
  if (!strcmp(argv[2], "meta0")) H5Pset_meta_block_size(fapl, 0);
  hid_t f = H5Fopen(argv[1], H5F_ACC_RDONLY, fapl);
  printf("open %lld\n", (long long)f); fflush(stdout);
  htri_t e = H5Lexists(f, "meta", H5P_DEFAULT);
  printf("exists %d\n", (int)e);
  H5Fclose(f);
  return 0;
}
