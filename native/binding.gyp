# The vbn native engine. -march=native: the addon is built by scripts/build-native.sh (npm run
# setup) on the machine that runs it and never packed (package.json "files" ships the sources).
# On x86-64 the base is built without AVX-512 (-mno-avx512f); the *_avx512.cc kernels are compiled
# for it by a target pragma and chosen at run time by CPU feature (src/isa.h, VBN_ISA=avx2).
{
  "targets": [
    {
      "target_name": "vbn_native",
      "sources": ["src/addon.cc", "src/args.cc", "src/conv.cc", "src/elementwise.cc", "src/matmul.cc", "src/isa.cc", "src/peak.cc", "src/peak_avx512.cc",
                  "src/vbn.cc", "src/winograd.cc", "src/winograd_avx512.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-march=native", "-fexceptions"],
      "cflags_cc!": ["-fno-rtti", "-fno-exceptions"],
      "libraries": ["-ldnnl", "-fopenmp"],
      "conditions": [["target_arch=='x64'", {"cflags_cc": ["-mno-avx512f"]}]]
    }
  ]
}
