package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// maxUsersCSV bounds what ReadUsersCSV reads: an export of ten thousand
// users is about a megabyte.
const maxUsersCSV = 16 << 20

// saveAsCSV says how to get a file ReadUsersCSV reads from Excel.
const saveAsCSV = `in Excel choose File › Save As › "CSV UTF-8 (Comma delimited) (*.csv)" and import that file`

var (
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16LEBOM = []byte{0xFF, 0xFE}
	utf16BEBOM = []byte{0xFE, 0xFF}
	zipMagic   = []byte("PK\x03\x04")                                   // .xlsx, .ods and any zip
	oleMagic   = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1} // .xls (Excel 97-2003)
)

// readCSVText reads a user export and returns it as UTF-8 text without a
// byte order mark, with line ends Go's csv reader knows. It decodes what
// Excel writes: "CSV UTF-8" (with a BOM), plain "CSV" (Windows-1252 in
// western European locales) and "Unicode text" (UTF-16 with a BOM), and
// names a workbook saved without converting it.
func readCSVText(r io.Reader) (string, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxUsersCSV+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxUsersCSV {
		return "", fmt.Errorf("the file is larger than %d MiB, far more than a user export: check that it is the right file", maxUsersCSV>>20)
	}
	switch {
	case bytes.HasPrefix(data, zipMagic):
		return "", errors.New("this is an Excel workbook (.xlsx) or another zip file, not CSV: " + saveAsCSV)
	case bytes.HasPrefix(data, oleMagic):
		return "", errors.New("this is an Excel 97-2003 workbook (.xls), not CSV: " + saveAsCSV)
	case bytes.HasPrefix(data, utf16LEBOM), bytes.HasPrefix(data, utf16BEBOM):
		// The BOM says which end comes first; ExpectBOM drops it.
		if data, err = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder().Bytes(data); err != nil {
			return "", fmt.Errorf("the file starts as UTF-16 but is not: %s", saveAsCSV)
		}
	default:
		data = bytes.TrimPrefix(data, utf8BOM)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return "", errors.New("the file has NUL bytes, so it is not a text CSV file (UTF-16 without a byte order mark?): " + saveAsCSV)
	}
	if !utf8.Valid(data) {
		// Not UTF-8, so Excel's plain "CSV": Windows-1252 in the locales
		// the products are sold in. Every byte decodes.
		if data, err = charmap.Windows1252.NewDecoder().Bytes(data); err != nil {
			return "", fmt.Errorf("the file is neither UTF-8 nor Windows-1252: %s", saveAsCSV)
		}
	}
	text := string(data)
	if !strings.Contains(text, "\n") {
		// Excel for Mac's "CSV (Macintosh)" ends lines with CR alone.
		text = strings.ReplaceAll(text, "\r", "\n")
	}
	return text, nil
}

// cutSepLine removes Excel's "sep=;" first line and returns the separator
// it names, or 0 when there is none. A spreadsheet that read the line as a
// row and wrote it back pads it with separators ("sep=;;;"); that is
// allowed too.
func cutSepLine(text string) (rest string, comma rune, err error) {
	line, rest, _ := strings.Cut(text, "\n")
	line = strings.TrimSuffix(line, "\r")
	if len(line) < 4 || !strings.EqualFold(line[:4], "sep=") {
		return text, 0, nil
	}
	sep := line[4:]
	comma, size := utf8.DecodeRuneInString(sep)
	switch {
	case sep == "" || strings.Trim(sep[size:], string(comma)) != "":
		return "", 0, fmt.Errorf("the first line %s must name one separator: write it as sep=; or sep=,", quoted(line))
	case !validComma(comma):
		return "", 0, fmt.Errorf("the first line %s names a character that cannot separate fields: write it as sep=; or sep=,", quoted(line))
	}
	return rest, comma, nil
}

// validComma reports whether encoding/csv takes c as a separator.
func validComma(c rune) bool {
	return c != '"' && c != '\r' && c != '\n' && c != utf8.RuneError && utf8.ValidRune(c)
}

// sniffComma picks the separator the header line uses most outside quotes:
// ';' as Excel writes in Dutch, French and German locales, a tab as in its
// "Unicode text", else ','.
func sniffComma(text string) rune {
	counts := map[rune]int{}
	quoted := false
scan:
	for _, c := range text {
		switch {
		case c == '"':
			quoted = !quoted
		case c == '\n' && !quoted:
			break scan
		case !quoted:
			counts[c]++
		}
	}
	best := ','
	for _, c := range []rune{';', '\t'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return best
}

// quoteMax is how many characters of a header or field an error quotes.
const quoteMax = 80

// quoted quotes s for a message, cut to about quoteMax characters: a
// workbook or a runaway quote must not become a message of megabytes.
func quoted(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		q := fmt.Sprintf("%q", string(r))
		q = q[1 : len(q)-1]
		if b.Len()-1+len(q) > quoteMax {
			b.WriteString(`"…`)
			return b.String()
		}
		b.WriteString(q)
	}
	b.WriteByte('"')
	return b.String()
}
