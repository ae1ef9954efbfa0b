package qr

// modeByte is the 4-bit mode indicator for byte mode. Byte mode is the only
// mode implemented: URLs are mostly lower case, which alphanumeric mode
// cannot represent, and mixing modes would save little for short strings.
const modeByte = 0b0100

// Pad codewords fill unused data capacity, alternating as the standard
// prescribes. Their bit patterns (11101100, 00010001) are chosen so that
// empty space does not produce long runs of one colour.
const (
	pad1 = 0xEC
	pad2 = 0x11
)

// bitWriter accumulates a bit stream, most significant bit first, as the
// QR data stream is defined.
type bitWriter struct {
	bytes []byte
	n     int // number of bits written
}

// write appends the low `width` bits of v.
func (w *bitWriter) write(v uint, width int) {
	for i := width - 1; i >= 0; i-- {
		if w.n%8 == 0 {
			w.bytes = append(w.bytes, 0)
		}
		if v>>i&1 == 1 {
			w.bytes[w.n/8] |= 0x80 >> (w.n % 8)
		}
		w.n++
	}
}

// dataCodewords builds the data codewords for data at version and level:
// mode indicator, character count, the bytes, a terminator of up to four
// zero bits, zero bits up to a byte boundary, then pad codewords up to the
// capacity. The caller has checked that data fits.
func dataCodewords(data []byte, version int, level Level) []byte {
	capacity := 8 * blockTable[version][level].dataCodewords()

	var w bitWriter
	w.write(modeByte, 4)
	w.write(uint(len(data)), countBits(version))
	for _, b := range data {
		w.write(uint(b), 8)
	}
	w.write(0, min(4, capacity-w.n))
	w.write(0, (8-w.n%8)%8)
	for pad := uint(pad1); w.n < capacity; {
		w.write(pad, 8)
		if pad == pad1 {
			pad = pad2
		} else {
			pad = pad1
		}
	}
	return w.bytes
}

// interleave splits the data codewords into blocks, computes each block's
// error-correction codewords, and returns the final codeword sequence:
// the first data codeword of every block, then the second of every block,
// and so on, followed by the error-correction codewords in the same order.
// Interleaving spreads each block across the symbol, so a localised smudge
// damages a little of many blocks instead of all of one.
func interleave(data []byte, info blockInfo) []byte {
	var blocks, eccs [][]byte
	addGroup := func(count, size int) {
		for range count {
			block := data[:size]
			data = data[size:]
			blocks = append(blocks, block)
			eccs = append(eccs, rsECC(block, info.ecc))
		}
	}
	addGroup(info.blocks1, info.data1)
	addGroup(info.blocks2, info.data2)

	out := make([]byte, 0, info.totalCodewords())
	longest := max(info.data1, info.data2)
	for i := range longest {
		for _, b := range blocks {
			if i < len(b) { // group 1 blocks are one codeword shorter
				out = append(out, b[i])
			}
		}
	}
	for i := range info.ecc {
		for _, e := range eccs {
			out = append(out, e[i])
		}
	}
	return out
}
