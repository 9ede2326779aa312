//! Compressed batches, chosen by the file's extension: `.gz` (gzip, read
//! and written) and `.zst` (Zstandard, read only). Decompression streams,
//! so what a compressed file can expand to is bounded where a plain file's
//! lines are: by the line limit of `input::Lines`, one line at a time.

use std::io::{self, BufRead, Read};
use std::path::Path;

use ruzstd::decoding::FrameDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Plain,
    Gzip,
    Zstd,
}

impl Codec {
    /// The codec a file's name says (`x.jsonl.gz`, `x.GZ`); stdin (`-`)
    /// has no name to say it, so it is plain.
    pub fn of(path: &Path) -> Codec {
        let ext = path.extension().and_then(|e| e.to_str());
        match ext.map(str::to_ascii_lowercase).as_deref() {
            Some("gz") => Codec::Gzip,
            Some("zst") => Codec::Zstd,
            _ => Codec::Plain,
        }
    }

    /// The decompressed bytes of `reader`.
    pub fn decoder(self, reader: impl BufRead + 'static) -> Box<dyn BufRead> {
        // The decoders' own reads are small: a buffer of the size the
        // plain file gets keeps `Lines` off them.
        let buffered = |r: Box<dyn Read>| Box::new(io::BufReader::with_capacity(1 << 16, r));
        match self {
            Codec::Plain => Box::new(reader),
            // `gzip` and `cat a.gz b.gz` write several members; every one
            // is read, as `gzip -d` reads them.
            Codec::Gzip => buffered(Box::new(flate2::bufread::MultiGzDecoder::new(reader))),
            Codec::Zstd => buffered(Box::new(ZstdFrames::new(reader))),
        }
    }

    /// How to check a file that did not decompress, for a read error's help.
    pub fn test_command(self) -> Option<&'static str> {
        match self {
            Codec::Plain => None,
            Codec::Gzip => Some("gzip -t"),
            Codec::Zstd => Some("zstd -t"),
        }
    }
}

/// Every frame of a Zstandard stream, in order, each checked against its
/// checksum when it has one; skippable frames are skipped. (`ruzstd`'s
/// `StreamingDecoder` reads a single frame and checks no checksum, and
/// `zstd` writes several frames for concatenated files and with `-T`.)
/// A stream cut short, or that is not Zstandard, is an error, never an
/// early end. `ruzstd` hands data out only once a window's worth (the
/// frame's window, a few MiB at `zstd`'s usual levels) has been decoded
/// after it, so on such an error the lines of the last window before the
/// damage are not read: fewer records before the error, never a wrong one.
struct ZstdFrames<R> {
    source: R,
    /// Kept across frames, so its buffers are allocated once. It refuses
    /// windows over 128 MiB (as `zstd -d` does by default), which bounds
    /// its memory whatever the frame header asks for.
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    fn new(source: R) -> ZstdFrames<R> {
        ZstdFrames {
            source,
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// Starts the next frame; `false` at the end of the stream.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => return Ok(true),
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let want = u64::from(length);
                    let skipped = io::copy(&mut (&mut self.source).take(want), &mut io::sink())?;
                    if skipped < want {
                        return Err(zstd_error("a skippable frame is cut short"));
                    }
                }
                Err(e) => return Err(zstd_error(e)),
            }
        }
    }

    /// The frame ends: its checksum, if it has one, must match what was
    /// read out of it.
    fn end_frame(&mut self) -> io::Result<()> {
        self.in_frame = false;
        match self.decoder.get_checksum_from_data() {
            Some(sum) if Some(sum) != self.decoder.get_calculated_checksum() => {
                Err(zstd_error("a frame's checksum does not match its data"))
            }
            _ => Ok(()),
        }
    }
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame {
                if !self.next_frame()? {
                    return Ok(0);
                }
                self.in_frame = true;
            }
            while self.decoder.can_collect() == 0 && !self.decoder.is_finished() {
                self.decoder
                    .decode_blocks(
                        &mut self.source,
                        ruzstd::decoding::BlockDecodingStrategy::UptoBlocks(1),
                    )
                    .map_err(zstd_error)?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            self.end_frame()?;
        }
    }
}

fn zstd_error(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("not valid Zstandard data: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(codec: Codec, bytes: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        codec
            .decoder(io::Cursor::new(bytes))
            .read_to_end(&mut out)?;
        Ok(out)
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        io::Write::write_all(&mut e, data).unwrap();
        e.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    #[test]
    fn the_extension_names_the_codec() {
        assert_eq!(Codec::of(Path::new("a.jsonl.gz")), Codec::Gzip);
        assert_eq!(Codec::of(Path::new("A.JSONL.GZ")), Codec::Gzip);
        assert_eq!(Codec::of(Path::new("a.jsonl.zst")), Codec::Zstd);
        assert_eq!(Codec::of(Path::new("a.jsonl")), Codec::Plain);
        assert_eq!(Codec::of(Path::new("gz")), Codec::Plain);
        assert_eq!(Codec::of(Path::new("-")), Codec::Plain);
    }

    /// Concatenated members and frames (`cat a.gz b.gz`) are read whole,
    /// and a skippable frame between two Zstandard frames is skipped.
    #[test]
    fn every_member_and_frame_is_read() {
        let mut two = gzip(b"one\n");
        two.extend(gzip(b"two\n"));
        assert_eq!(decode(Codec::Gzip, two).unwrap(), b"one\ntwo\n");

        let mut frames = zstd(b"one\n");
        // A skippable frame: magic 0x184D2A50..5F, a length, that many bytes.
        frames.extend(0x184D_2A5Au32.to_le_bytes());
        frames.extend(3u32.to_le_bytes());
        frames.extend(b"xyz");
        frames.extend(zstd(b"two\n"));
        assert_eq!(decode(Codec::Zstd, frames).unwrap(), b"one\ntwo\n");
        assert_eq!(decode(Codec::Zstd, Vec::new()).unwrap(), b"");
    }

    /// A stream cut anywhere, or with a byte changed, is an error: never a
    /// shorter input that reads as complete.
    #[test]
    fn a_cut_or_corrupt_stream_is_an_error() {
        let data: Vec<u8> = (0..20_000u32)
            .flat_map(|i| format!("{{\"n\": {}}}\n", i * 7919 % 10007).into_bytes())
            .collect();
        for (codec, whole) in [(Codec::Gzip, gzip(&data)), (Codec::Zstd, zstd(&data))] {
            assert_eq!(decode(codec, whole.clone()).unwrap(), data);
            for cut in [1, 5, 20, whole.len() / 2, whole.len() - 4, whole.len() - 1] {
                let short = whole.get(..cut).unwrap().to_vec();
                assert!(decode(codec, short).is_err(), "{codec:?} cut at {cut}");
            }
        }
        let mut flipped = gzip(&data);
        let last = flipped.len() - 5;
        flipped[last] ^= 1;
        assert!(decode(Codec::Gzip, flipped).is_err());
        let e = decode(Codec::Zstd, b"not zstd at all".to_vec()).unwrap_err();
        assert!(e.to_string().starts_with("not valid Zstandard data"), "{e}");
    }

    /// Bytes changed at random in either stream: an error or some data,
    /// never a panic (which would end a batch without its summary).
    #[test]
    fn random_damage_never_panics() {
        let data: Vec<u8> = (0..3_000u32)
            .flat_map(|i| format!("{{\"n\": {}}}\n", i * 7919 % 10007).into_bytes())
            .collect();
        let mut rng = crate::testing::SplitMix64::new(12);
        for (codec, whole) in [(Codec::Gzip, gzip(&data)), (Codec::Zstd, zstd(&data))] {
            for _ in 0..300 {
                let mut damaged = whole.clone();
                for _ in 0..=rng.below(3) {
                    let at = rng.below(damaged.len() as u64) as usize;
                    damaged[at] = rng.next_u64() as u8;
                }
                let _ = decode(codec, damaged);
            }
        }
    }

    /// `zstd` writes a checksum of each frame (`printf '{"n": 1}\n' |
    /// zstd`): it is checked, so a changed byte the format itself would
    /// not notice is still an error.
    #[test]
    fn a_frame_checksum_is_checked() {
        let mut frame = vec![
            0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x58, 0x49, 0x00, 0x00, 0x7b, 0x22, 0x6e, 0x22, 0x3a,
            0x20, 0x31, 0x7d, 0x0a, 0xd8, 0x21, 0xb8, 0x31,
        ];
        assert_eq!(decode(Codec::Zstd, frame.clone()).unwrap(), b"{\"n\": 1}\n");
        // The request's digit, in a raw block: only the checksum sees it.
        frame[15] = b'2';
        let e = decode(Codec::Zstd, frame).unwrap_err();
        assert!(
            e.to_string().ends_with("checksum does not match its data"),
            "{e}"
        );
    }
}
