package qr

// blockInfo describes how one version and level splits its data codewords
// into Reed–Solomon blocks (ISO/IEC 18004 Table 9). Blocks come in at most
// two groups; group 2 blocks carry one more data codeword than group 1, so
// every codeword of the symbol is used.
type blockInfo struct {
	ecc     int // error-correction codewords per block (same for every block)
	blocks1 int // number of blocks in group 1
	data1   int // data codewords per block in group 1
	blocks2 int // number of blocks in group 2 (0 if none)
	data2   int // data codewords per block in group 2
}

// dataCodewords returns the total number of data codewords.
func (b blockInfo) dataCodewords() int {
	return b.blocks1*b.data1 + b.blocks2*b.data2
}

// totalCodewords returns the number of data plus error-correction
// codewords, which is the symbol's whole codeword capacity.
func (b blockInfo) totalCodewords() int {
	return b.dataCodewords() + (b.blocks1+b.blocks2)*b.ecc
}

// blockTable is indexed by version, then by Level (L, M, Q, H).
// Index 0 is unused so that blockTable[v] reads naturally.
var blockTable = [maxVersion + 1][4]blockInfo{
	1:  {{7, 1, 19, 0, 0}, {10, 1, 16, 0, 0}, {13, 1, 13, 0, 0}, {17, 1, 9, 0, 0}},
	2:  {{10, 1, 34, 0, 0}, {16, 1, 28, 0, 0}, {22, 1, 22, 0, 0}, {28, 1, 16, 0, 0}},
	3:  {{15, 1, 55, 0, 0}, {26, 1, 44, 0, 0}, {18, 2, 17, 0, 0}, {22, 2, 13, 0, 0}},
	4:  {{20, 1, 80, 0, 0}, {18, 2, 32, 0, 0}, {26, 2, 24, 0, 0}, {16, 4, 9, 0, 0}},
	5:  {{26, 1, 108, 0, 0}, {24, 2, 43, 0, 0}, {18, 2, 15, 2, 16}, {22, 2, 11, 2, 12}},
	6:  {{18, 2, 68, 0, 0}, {16, 4, 27, 0, 0}, {24, 4, 19, 0, 0}, {28, 4, 15, 0, 0}},
	7:  {{20, 2, 78, 0, 0}, {18, 4, 31, 0, 0}, {18, 2, 14, 4, 15}, {26, 4, 13, 1, 14}},
	8:  {{24, 2, 97, 0, 0}, {22, 2, 38, 2, 39}, {22, 4, 18, 2, 19}, {26, 4, 14, 2, 15}},
	9:  {{30, 2, 116, 0, 0}, {22, 3, 36, 2, 37}, {20, 4, 16, 4, 17}, {24, 4, 12, 4, 13}},
	10: {{18, 2, 68, 2, 69}, {26, 4, 43, 1, 44}, {24, 6, 19, 2, 20}, {28, 6, 15, 2, 16}},
}

// alignmentCenters lists, per version, the row/column coordinates of
// alignment pattern centres (ISO/IEC 18004 Annex E). Patterns sit at every
// combination of these coordinates except the three that would overlap a
// finder pattern. Version 1 has none.
var alignmentCenters = [maxVersion + 1][]int{
	2:  {6, 18},
	3:  {6, 22},
	4:  {6, 26},
	5:  {6, 30},
	6:  {6, 34},
	7:  {6, 22, 38},
	8:  {6, 24, 42},
	9:  {6, 26, 46},
	10: {6, 28, 50},
}

// countBits returns the length of the byte-mode character count indicator,
// which grows with the version so larger symbols can state larger lengths.
func countBits(version int) int {
	if version <= 9 {
		return 8
	}
	return 16 // versions 10–26
}

// dataBits returns how many bits n bytes need in byte mode at version:
// the 4-bit mode indicator, the count indicator and the bytes themselves.
// The terminator is optional when the symbol is exactly full, so it is not
// counted.
func dataBits(version, n int) int {
	return 4 + countBits(version) + 8*n
}

// byteCapacity returns the largest number of bytes that fit at version and
// level; it is used for error messages and tests.
func byteCapacity(version int, level Level) int {
	return (8*blockTable[version][level].dataCodewords() - 4 - countBits(version)) / 8
}
