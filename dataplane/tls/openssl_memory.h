#pragma once
// OpenSSL's allocations through per-thread recycling lists.
//
// Why: OpenSSL 3.0 allocates and frees a few small blocks on every record it writes (the
// WPACKET sub-packet bookkeeping in do_ssl3_write: 2 per record with TLS 1.2, 4 with TLS 1.3,
// measured), which would put the global allocator on the request path of every shard. With
// this installed, a block OpenSSL frees goes onto a bounded list of its thread and the next
// request of the same size class takes it back, so a shard in steady state calls malloc for
// none of them (tests/e2e/mtls_test.cc proves it with the counting allocator). Larger blocks
// (handshake buffers, certificates) go straight to malloc.
namespace ringside::tls {

// Routes OpenSSL's CRYPTO_malloc/realloc/free through the lists. Must run before OpenSSL
// allocates anything (first thing in main); false when it came too late (then nothing changes).
bool install_openssl_allocator();

}  // namespace ringside::tls
