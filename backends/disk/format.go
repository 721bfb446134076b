package disk

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	"github.com/tiercache/tiercache"
)

// Entry file layout, version 1. Every integer is big-endian.
//
//	offset   size  field
//	0        4     magic "TCDE" (tiercache disk entry)
//	4        1     format version (1)
//	5        3     reserved, zero
//	8        8     expiry deadline, Unix nanoseconds (int64)
//	16       4     key length k (uint32, at most MaxKeyLen)
//	20       8     value length v (uint64)
//	28       k     key
//	28+k     v     value
//	28+k+v   4     CRC-32C (Castagnoli) of bytes [0, 28+k+v)
//
// A valid file is exactly headerSize+k+v+trailerSize bytes long. The file's
// name is the hex SHA-256 of the key, so the key inside the file is checked
// against the key asked for on every read.
const (
	fileMagic     = "TCDE"
	fileVersion   = 1
	offVersion    = 4
	offReserved   = 5
	offDeadline   = 8
	offKeyLen     = 16
	offValueLen   = 20
	headerSize    = 28
	trailerSize   = 4
	fileOverhead  = headerSize + trailerSize
	reservedBytes = offDeadline - offReserved
)

// MaxKeyLen is the longest key a Store accepts, in bytes.
const MaxKeyLen = 64 << 10

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileSize returns the size of the file that stores a key of k bytes and a
// value of v bytes.
func fileSize(k, v int) int64 { return int64(fileOverhead) + int64(k) + int64(v) }

// appendEntry appends the encoded file for (key, value, deadline) to dst.
func appendEntry(dst []byte, key string, value []byte, deadline int64) []byte {
	start := len(dst)
	dst = append(dst, fileMagic...)
	dst = append(dst, fileVersion, 0, 0, 0)
	dst = binary.BigEndian.AppendUint64(dst, uint64(deadline))
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(key)))
	dst = binary.BigEndian.AppendUint64(dst, uint64(len(value)))
	dst = append(dst, key...)
	dst = append(dst, value...)
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// header is the fixed part of an entry file.
type header struct {
	deadline int64
	keyLen   int
	valueLen int
}

// parseHeader checks the fixed header of a file of fileLen bytes: magic,
// version, reserved bytes and that the lengths add up to fileLen. It does
// not check the checksum.
func parseHeader(b []byte, fileLen int64) (header, error) {
	if len(b) < headerSize || fileLen < fileOverhead {
		return header{}, fmt.Errorf("%w: file of %d bytes is shorter than the %d-byte frame", tiercache.ErrCorrupt, fileLen, fileOverhead)
	}
	if string(b[:offVersion]) != fileMagic {
		return header{}, fmt.Errorf("%w: bad magic %q", tiercache.ErrCorrupt, b[:offVersion])
	}
	if b[offVersion] != fileVersion {
		return header{}, fmt.Errorf("%w: entry file version %d (want %d)", tiercache.ErrVersion, b[offVersion], fileVersion)
	}
	for _, r := range b[offReserved:offDeadline] {
		if r != 0 {
			return header{}, fmt.Errorf("%w: reserved header bytes are not zero", tiercache.ErrCorrupt)
		}
	}
	k := uint64(binary.BigEndian.Uint32(b[offKeyLen:]))
	v := binary.BigEndian.Uint64(b[offValueLen:])
	if k > MaxKeyLen || v > uint64(fileLen) || uint64(fileLen) != fileOverhead+k+v {
		return header{}, fmt.Errorf("%w: lengths (key %d, value %d) do not match the file size %d", tiercache.ErrCorrupt, k, v, fileLen)
	}
	return header{
		deadline: int64(binary.BigEndian.Uint64(b[offDeadline:])),
		keyLen:   int(k),
		valueLen: int(v),
	}, nil
}

// decodeEntry checks a whole entry file and returns its key, value and
// deadline. The value aliases data. Every failure wraps ErrCorrupt or
// ErrVersion.
func decodeEntry(data []byte) (key, value []byte, deadline int64, err error) {
	h, err := parseHeader(data, int64(len(data)))
	if err != nil {
		return nil, nil, 0, err
	}
	end := len(data) - trailerSize
	if sum := binary.BigEndian.Uint32(data[end:]); sum != crc32.Checksum(data[:end], castagnoli) {
		return nil, nil, 0, fmt.Errorf("%w: checksum mismatch", tiercache.ErrCorrupt)
	}
	key = data[headerSize : headerSize+h.keyLen]
	value = data[headerSize+h.keyLen : end : end]
	return key, value, h.deadline, nil
}

// keyHash is the SHA-256 of a key; it names the entry's file.
type keyHash = [sha256.Size]byte

func hashKey(key string) keyHash { return sha256.Sum256([]byte(key)) }
