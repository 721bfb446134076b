package tiercache

var _ MetricSource = (*Compressor)(nil)

// Unwrap returns the Manager the Compressor stores into (for ReadMetrics
// and the exporters): calls made on it directly see compressed frames.
func (c *Compressor) Unwrap() Manager { return c.next }

// Metrics writes the counters of Stats as compress.* values.
func (c *Compressor) Metrics(w MetricWriter) {
	s := c.Stats()
	w.Counter("compress.compressed", "Bodies Put stored compressed.", s.Compressed)
	w.Counter("compress.skipped", "Bodies Put stored uncompressed (small, encoded, incompressible or too large).", s.Skipped)
	w.ByteCounter("compress.input", "Original length of the bodies stored compressed.", s.BytesIn)
	w.ByteCounter("compress.output", "Stored (framed) length of the bodies stored compressed.", s.BytesOut)
	w.Counter("compress.decompressed", "Frames Get decoded.", s.Decompressed)
	w.Counter("compress.corrupt", "Frames Get could not decode, returned as misses.", s.Corrupt)
}
