{
  "targets": [
    {
      "target_name": "virtbus_libvirt",
      "sources": [
        "native/src/addon.cc",
        "native/src/value.cc",
        "native/src/worker_pool.cc",
        "native/src/events.cc",
        "native/src/event_loop.cc",
        "native/src/connect.cc",
        "native/src/domain.cc",
        "native/src/storage.cc",
        "native/src/network.cc",
        "native/src/notify.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-cast-function-type", "<!@(pkg-config --cflags libvirt)"],
      "libraries": ["<!@(pkg-config --libs libvirt)"]
    }
  ]
}
