# All dependencies come from Debian -dev packages (scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

if(RINGSIDE_FUZZ)
  # Fuzz builds need only the pure parsers and codecs plus libprotobuf for cross-checks.
  find_package(Protobuf REQUIRED)
  find_package(absl REQUIRED)
  find_package(yaml-cpp REQUIRED)  # the loadBalancing config parser
  # The HTTP/2 server fuzzer drives GrpcServerConnection over nghttp2 (not instrumented: the
  # frames are nghttp2's to parse; what runs above them is ours).
  pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
  return()
endif()

pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
# Debian ships gRPC without usable CMake package files for our purpose: use pkg-config.
pkg_check_modules(GRPCPP REQUIRED IMPORTED_TARGET grpc++)
find_package(Protobuf REQUIRED)
find_package(absl REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(mimalloc REQUIRED)
find_package(GTest REQUIRED)
find_package(benchmark REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)
