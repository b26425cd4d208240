#pragma once
// InvokeScratch: per-shard scratch memory for building one message at a time on the request
// path (metadata grouping, formatted error texts). Allocated once per shard at start-up;
// nothing in it survives past the function that fills it.
#include "dataplane/mapping/metadata_builder.h"
#include "dataplane/mem/buffer.h"

namespace ringside::invoke {

struct InvokeScratch {
  MetadataBuilder metadata;  // request metadata / response headers being assembled
  char text[2048];           // formatted error messages
  mem::Buffer json;          // JSON bodies being formatted (error bodies)
  char* path = nullptr;      // decoded and cleaned request paths (2 * max head bytes + 64)
  size_t path_size = 0;      // bytes at `path`
};

}  // namespace ringside::invoke
