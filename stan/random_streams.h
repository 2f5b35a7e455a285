// Every random stream stan draws from, by name. A stream is Generator(seed, tag) (see
// tensor/random.h): streams with different tags are independent, and a draw depends only on
// (seed, tag, counter), so adding draws to one stream never shifts another. The values are part
// of the file format of reproducibility (same seed, same model, same flows): never renumber.
#pragma once

#include <cstdint>

namespace stan::streams {

// Training.
inline constexpr uint64_t kInit = 0x5eed;          // network initialisation (split per attribute)
inline constexpr uint64_t kShuffle = 0x5;          // batch order (split per epoch)
inline constexpr uint64_t kColdStarts = 0xc01d;    // cold-start clock times (split per host)
inline constexpr uint64_t kProfileFit = 0x9f0f;    // EM initialisation of the profile mixture
inline constexpr uint64_t kProfileNoise = 0x9f0e;  // profile noise (split per epoch, batch)
inline constexpr uint64_t kMemoryNoise = 0x3e30;   // service memory noise (likewise)
inline constexpr uint64_t kDropout = 0xd0;         // dropout (split per epoch, batch, network)
inline constexpr uint64_t kSweepFit = 0x5e3f;      // the sample of each sweep's flows

// The stored flows of each heavy conversation (train --conversations).
inline constexpr uint64_t kConversationFit = 0xc0f;

// Generation.
inline constexpr uint64_t kHostAddresses = 0xad;  // made-up owner addresses
inline constexpr uint64_t kHosts = 0x6e;          // per-host streams (split per host index)
inline constexpr uint64_t kHostProfile = 0x9f;    // a host's profile draw (split of its stream)
inline constexpr uint64_t kSweeps = 0x5e3;        // sweep flows (split per host index, then day)
inline constexpr uint64_t kPairRates = 0x9a1;     // pair rates (split of a host's stream, then
                                                  // per remote address)
inline constexpr uint64_t kPairDraws = 0x9a2;     // pair draws (split of a host's stream, then
                                                  // per remote address; per flow offset: coins)

// A host's heavy conversation: split per host index, then split(0) draws it and split(1) gives
// the coins of the host's flows (counters 2n and 2n + 1: flow n's).
inline constexpr uint64_t kConversations = 0xc0e;

// Evaluation (train-on-synthetic / test-on-real), offset by the task's stream number.
inline constexpr uint64_t kTstrInit = 0x7517'0000u;
inline constexpr uint64_t kTstrShuffle = 0x7518'0000u;
inline constexpr uint64_t kTstrSubset = 0x7519'0000u;

}  // namespace stan::streams
