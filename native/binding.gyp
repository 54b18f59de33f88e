# The vbn native engine. -march=native: the addon is built by scripts/build-native.sh (npm run
# setup) on the machine that runs it and never packed (package.json "files" ships the sources).
{
  "targets": [
    {
      "target_name": "vbn_native",
      "sources": ["src/addon.cc", "src/args.cc", "src/conv.cc", "src/elementwise.cc", "src/matmul.cc", "src/peak.cc", "src/vbn.cc", "src/winograd.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-O3", "-std=c++17", "-fopenmp", "-march=native", "-fexceptions"],
      "cflags_cc!": ["-fno-rtti", "-fno-exceptions"],
      "libraries": ["-ldnnl", "-fopenmp"]
    }
  ]
}
