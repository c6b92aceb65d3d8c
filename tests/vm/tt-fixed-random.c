/*
 * Test rig only (tests/vm/run with --time-travel and TT_PIN=1): preloaded into a UML guest's
 * `linux` process, it replaces getrandom(2) with a fixed stream keyed by $TT_RANDOM_SEED.
 *
 * Why: UML fills the guest kernel's random pool from the host (arch_get_random_longs calls
 * getrandom on the host, and um_arch.c seeds the boot pool the same way), so every guest
 * nonce, BSS colour, IPv6 MLD report delay and TCP sequence number differs between runs even
 * when virtual time makes everything else repeat. With this the guest's randomness is a
 * function of the seed: two runs with the same seed can be compared frame by frame.
 * Never use it for anything but such comparisons: nothing it returns is secret.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

static uint64_t state;
static int seeded;

/* splitmix64: a fixed, well-spread sequence from a 64-bit counter. */
static uint64_t next_word(void)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	unsigned char *out = buf;
	size_t i;

	(void)flags;
	if (!seeded) {
		const char *seed = getenv("TT_RANDOM_SEED");
		state = seed ? strtoull(seed, NULL, 0) : 1;
		seeded = 1;
	}
	for (i = 0; i < len; i += 8) {
		uint64_t w = next_word();
		size_t k;
		for (k = 0; k < 8 && i + k < len; k++)
			out[i + k] = (unsigned char)(w >> (8 * k));
	}
	return (ssize_t)len;
}
