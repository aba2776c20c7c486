// Package sha256 is SHA-256 (FIPS 180-4 §6.2) for the browser bundle: the PKCE S256 challenge
// (RFC 7636 §4.2), the JWK thumbprint (RFC 7638) and the DPoP ath claim (RFC 9449 §4.2).
//
// Why not crypto/sha256: since Go 1.24 it is part of the FIPS 140 module and links that module's
// self-tests, DRBG, AES-GCM, SHA-3 and HMAC — 39 KB brotli, 4.4 % of the bundle (measured with
// `make size`). A hash has no secret state and no data-dependent branches or table lookups here, so
// this small version is as constant-time as the standard one, and its tests hold it to
// crypto/sha256 byte for byte (sha256_test.go: FIPS 180-4 examples, every length 0–300, fuzzing).
package sha256

import "math/bits"

// Size is the length of a SHA-256 digest in bytes.
const Size = 32

const blockSize = 64

// FIPS 180-4 §5.3.3: the initial hash value.
var initial = [8]uint32{
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
}

// FIPS 180-4 §4.2.2: the constants K0..K63.
var k = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// Sum256 returns the SHA-256 digest of data.
func Sum256(data []byte) [Size]byte {
	h := initial
	// FIPS 180-4 §5.1.1: append 0x80, zeros, and the message length in bits (64-bit big-endian)
	// so that the total is a multiple of 64 bytes. Whole blocks are hashed in place.
	n := len(data) - len(data)%blockSize
	blocks(&h, data[:n])
	var tail [2 * blockSize]byte
	rest := copy(tail[:], data[n:])
	tail[rest] = 0x80
	end := blockSize
	if rest >= blockSize-8 {
		end = 2 * blockSize
	}
	bitLen := uint64(len(data)) << 3
	for i := 0; i < 8; i++ {
		tail[end-1-i] = byte(bitLen >> (8 * i))
	}
	blocks(&h, tail[:end])

	var out [Size]byte
	for i, v := range h {
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
	}
	return out
}

// blocks runs the compression function (FIPS 180-4 §6.2.2) over each 64-byte block of p.
func blocks(h *[8]uint32, p []byte) {
	var w [64]uint32
	for len(p) >= blockSize {
		for t := 0; t < 16; t++ {
			j := 4 * t
			w[t] = uint32(p[j])<<24 | uint32(p[j+1])<<16 | uint32(p[j+2])<<8 | uint32(p[j+3])
		}
		for t := 16; t < 64; t++ {
			s0 := bits.RotateLeft32(w[t-15], -7) ^ bits.RotateLeft32(w[t-15], -18) ^ (w[t-15] >> 3)
			s1 := bits.RotateLeft32(w[t-2], -17) ^ bits.RotateLeft32(w[t-2], -19) ^ (w[t-2] >> 10)
			w[t] = w[t-16] + s0 + w[t-7] + s1
		}
		a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
		for t := 0; t < 64; t++ {
			S1 := bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)
			ch := (e & f) ^ (^e & g)
			t1 := hh + S1 + ch + k[t] + w[t]
			S0 := bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)
			maj := (a & b) ^ (a & c) ^ (b & c)
			t2 := S0 + maj
			hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
		}
		h[0] += a
		h[1] += b
		h[2] += c
		h[3] += d
		h[4] += e
		h[5] += f
		h[6] += g
		h[7] += hh
		p = p[blockSize:]
	}
}
