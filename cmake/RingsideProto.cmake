# ringside_proto_library(<target> PROTO_ROOT <dir> PROTOS <files relative to root> [GRPC])
# Runs protoc (and grpc_cpp_plugin with GRPC) from add_custom_command, so nothing depends on
# gRPC's CMake package files, which Debian does not ship in usable form.
function(ringside_proto_library target)
  cmake_parse_arguments(P "GRPC" "PROTO_ROOT" "PROTOS" ${ARGN})
  set(out ${CMAKE_BINARY_DIR}/gen)
  file(MAKE_DIRECTORY ${out})
  set(srcs)
  foreach(p ${P_PROTOS})
    string(REGEX REPLACE "\\.proto$" "" base ${p})
    set(gen ${out}/${base}.pb.cc ${out}/${base}.pb.h)
    set(cmd_args --proto_path=${P_PROTO_ROOT} --cpp_out=${out})
    if(P_GRPC)
      list(APPEND gen ${out}/${base}.grpc.pb.cc ${out}/${base}.grpc.pb.h)
      list(APPEND cmd_args --grpc_out=${out} --plugin=protoc-gen-grpc=${GRPC_CPP_PLUGIN})
    endif()
    add_custom_command(
      OUTPUT ${gen}
      COMMAND protobuf::protoc ${cmd_args} ${P_PROTO_ROOT}/${p}
      DEPENDS ${P_PROTO_ROOT}/${p}
      COMMENT "protoc ${p}")
    list(APPEND srcs ${gen})
  endforeach()
  add_library(${target} STATIC ${srcs})
  target_include_directories(${target} PUBLIC ${out})
  target_link_libraries(${target} PUBLIC protobuf::libprotobuf)
  if(P_GRPC)
    target_link_libraries(${target} PUBLIC PkgConfig::GRPCPP)
  endif()
  target_compile_options(${target} PRIVATE -w)
endfunction()
