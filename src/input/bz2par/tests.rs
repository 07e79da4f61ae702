//! Tests of the whole module against `bzip2::bufread::MultiBzDecoder` on multi-stream data
//! built here (each piece compressed on its own, then concatenated).

use std::io::{self, BufRead, Cursor, Read, Write};

use bzip2::bufread::MultiBzDecoder;
use bzip2::write::BzEncoder;
use bzip2::Compression;

use super::split::Tuning;
use super::*;

/// Chunk sizes that put cuts everywhere: mid-stream (forced), at every start, in every read.
const TINY: Tuning = Tuning {
    min_chunk: 1,
    max_chunk: 200,
    read_size: 7,
};
const SMALL: Tuning = Tuning {
    min_chunk: 4 << 10,
    max_chunk: 16 << 10,
    read_size: 1000,
};
const TUNINGS: [Tuning; 3] = [
    TINY,
    SMALL,
    Tuning {
        min_chunk: 1 << 20,
        max_chunk: 4 << 20,
        read_size: 256 << 10,
    },
];

/// Deterministic text of `len` bytes: words from a small vocabulary, so that it compresses
/// like prose.
fn text(len: usize, seed: u64) -> Vec<u8> {
    const WORDS: [&str; 12] = [
        "the", "page", "stream", "wiki", "of", "and", "bzip2", "<text>", "article", "in", "a",
        "revision",
    ];
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 16);
    while out.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        out.extend_from_slice(WORDS[(state % WORDS.len() as u64) as usize].as_bytes());
        out.push(if state.is_multiple_of(11) {
            b'\n'
        } else {
            b' '
        });
    }
    out.truncate(len);
    out
}

fn compress(data: &[u8]) -> Vec<u8> {
    let mut encoder = BzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// A multi-stream file of `pieces`, each its own stream: bytes, plain text, stream starts.
fn multistream(pieces: &[Vec<u8>]) -> (Vec<u8>, Vec<u8>, Vec<u64>) {
    let mut file = Vec::new();
    let mut starts = Vec::new();
    for piece in pieces {
        starts.push(file.len() as u64);
        file.extend_from_slice(&compress(piece));
    }
    (file, pieces.concat(), starts)
}

fn reference(file: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    MultiBzDecoder::new(file).read_to_end(&mut out)?;
    Ok(out)
}

fn reader(file: &[u8], threads: usize, known: Vec<u64>, tuning: Tuning) -> ParallelBzReader {
    let input = Box::new(Cursor::new(file.to_vec()));
    ParallelBzReader::build(input, threads, known, tuning).unwrap()
}

/// Everything the reader delivers, and the error it stopped with.
fn drain(mut r: impl Read) -> (Vec<u8>, Option<io::Error>) {
    let mut out = Vec::new();
    let mut buf = vec![0; 10_007];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn decode(file: &[u8], threads: usize, tuning: Tuning) -> io::Result<Vec<u8>> {
    let (out, err) = drain(reader(file, threads, Vec::new(), tuning));
    err.map_or(Ok(out), Err)
}

/// Pieces of assorted sizes, including empty ones and one over 900 kB (two bzip2 blocks).
fn assorted_pieces() -> Vec<Vec<u8>> {
    [0, 1, 5_000, 0, 120_000, 37, 950_000, 0, 64_000, 3]
        .iter()
        .enumerate()
        .map(|(i, &len)| text(len, i as u64))
        .collect()
}

#[test]
fn matches_multibz_for_any_threads_and_chunk_size() {
    let (file, plain, _) = multistream(&assorted_pieces());
    assert_eq!(reference(&file).unwrap(), plain);
    for threads in [1, 2, 4] {
        for tuning in TUNINGS {
            let out = decode(&file, threads, tuning).unwrap();
            assert!(out == plain, "threads {threads}, {tuning:?}");
        }
    }
}

#[test]
fn many_small_streams() {
    let pieces: Vec<_> = (0..300).map(|i| text(i * 37 % 2_000, i as u64)).collect();
    let (file, plain, starts) = multistream(&pieces);
    assert_eq!(find_stream_starts(&file), starts);
    for threads in [1, 2, 4] {
        for tuning in TUNINGS {
            assert!(decode(&file, threads, tuning).unwrap() == plain);
        }
    }
}

#[test]
fn empty_streams() {
    let (file, plain, starts) = multistream(&[vec![], vec![], vec![]]);
    assert_eq!(file.len(), 3 * 14, "an empty stream is 14 bytes");
    assert!(plain.is_empty());
    assert_eq!(find_stream_starts(&file), starts);
    for tuning in TUNINGS {
        assert_eq!(decode(&file, 2, tuning).unwrap(), reference(&file).unwrap());
    }
}

#[test]
fn single_stream_decodes_sequentially() {
    let plain = text(2_500_000, 7);
    let file = compress(&plain);
    assert!(!is_multistream(&file));
    assert_eq!(find_stream_starts(&file), [0]);
    for threads in [1, 2, 4] {
        for tuning in TUNINGS {
            assert!(
                decode(&file, threads, tuning).unwrap() == plain,
                "{tuning:?}"
            );
        }
    }
}

#[test]
fn stream_magic_in_the_payload_is_irrelevant() {
    let mut tricky = text(3_000, 1);
    tricky.extend_from_slice(b"BZh91AY&SY and an end: \x17\x72\x45\x38\x50\x90");
    let embedded = multistream(&[text(500, 2), text(700, 3)]).0;
    tricky.extend_from_slice(&embedded);
    tricky.extend_from_slice(&text(3_000, 4));
    let pieces = [text(10_000, 5), tricky.clone(), tricky, text(10, 6)];
    let (file, plain, starts) = multistream(&pieces);
    assert_eq!(find_stream_starts(&file), starts);
    for tuning in TUNINGS {
        assert!(decode(&file, 2, tuning).unwrap() == plain);
    }
}

#[test]
fn header_pattern_inside_a_stream_is_not_a_start() {
    // Writing a header and block magic into the middle of a stream makes it corrupt, but the
    // pattern must still not be taken for a start: no stream trailer ends before it.
    let (mut file, _, starts) = multistream(&[text(20_000, 1), text(40_000, 2), text(9, 3)]);
    let fake = (starts[1] + starts[2]) as usize / 2;
    file[fake..fake + 10].copy_from_slice(b"BZh91AY&SY");
    assert_eq!(find_stream_starts(&file), starts);
    // The damage is reported at the stream that holds it, after the stream before it.
    for tuning in TUNINGS {
        let (out, err) = drain(reader(&file, 2, Vec::new(), tuning));
        let err = err.expect("corrupt stream");
        let want = format!("bzip2 stream at byte {}:", starts[1]);
        assert!(err.to_string().starts_with(&want), "{err}");
        assert!(out.starts_with(&text(20_000, 1)));
    }
}

#[test]
fn false_cuts_are_verified_by_decoding() {
    // An index with offsets inside streams puts chunk cuts where no stream starts; the chunk
    // before each such cut stops mid-stream and the reader carries its decoder on.
    let (file, plain, starts) = multistream(&assorted_pieces());
    let mut known: Vec<u64> = starts.windows(2).map(|w| (w[0] + w[1]) / 2).collect();
    known.extend(&starts);
    known.sort_unstable();
    for threads in [1, 2, 4] {
        for tuning in [TINY, SMALL] {
            let (out, err) = drain(reader(&file, threads, known.clone(), tuning));
            assert!(err.is_none(), "{err:?}");
            assert!(out == plain);
        }
    }
}

#[test]
fn truncated_file_names_the_stream_and_keeps_earlier_bytes() {
    let pieces = assorted_pieces();
    let (file, plain, starts) = multistream(&pieces);
    // Cut inside the stream of piece 6 (950 kB).
    let cut = (starts[6] + starts[7]) as usize / 2;
    let before = pieces[..6].concat();
    assert!(reference(&file[..cut]).is_err());
    for threads in [1, 2, 4] {
        for tuning in TUNINGS {
            let (out, err) = drain(reader(&file[..cut], threads, Vec::new(), tuning));
            let err = err.expect("truncated");
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
            let want = format!("bzip2 stream at byte {}: unexpected end of data", starts[6]);
            assert!(err.to_string().starts_with(&want), "{err}");
            assert!(out.starts_with(&before) && plain.starts_with(&out));
        }
    }
}

#[test]
fn corrupt_stream_names_its_offset_and_errors_repeat() {
    let pieces = assorted_pieces();
    let (mut file, _, starts) = multistream(&pieces);
    let bad = (starts[4] + starts[5]) as usize / 2;
    file[bad] ^= 0x55;
    let mut r = reader(&file, 2, Vec::new(), SMALL);
    let (out, err) = drain(&mut r);
    let err = err.expect("corrupt");
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    let want = format!("bzip2 stream at byte {}: corrupt data", starts[4]);
    assert!(err.to_string().starts_with(&want), "{err}");
    assert!(out.starts_with(&pieces[..4].concat()));
    assert_eq!(r.fill_buf().unwrap_err().to_string(), err.to_string());
}

#[test]
fn garbage_after_the_last_stream_is_an_error_after_all_output() {
    let (mut file, plain, _) = multistream(&[text(30_000, 1), text(30_000, 2)]);
    let end = file.len();
    file.extend_from_slice(b"this is not bzip2");
    assert!(reference(&file).is_err());
    for tuning in TUNINGS {
        let (out, err) = drain(reader(&file, 2, Vec::new(), tuning));
        assert!(out == plain);
        let want = format!("bzip2 stream at byte {end}: no bzip2 header");
        let err = err.expect("garbage");
        assert!(err.to_string().starts_with(&want), "{err}");
    }
}

#[test]
fn empty_input_is_an_error() {
    assert!(reference(b"").is_err());
    let (_, err) = drain(reader(b"", 2, Vec::new(), SMALL));
    assert!(err.expect("empty").to_string().contains("empty input"));
}

#[test]
fn is_multistream_needs_a_second_start() {
    let (file, _, starts) = multistream(&[text(1_000, 1), text(1_000, 2)]);
    assert!(is_multistream(&file));
    assert!(!is_multistream(&file[..starts[1] as usize + 5]));
    assert!(!is_multistream(&compress(&text(5_000, 3))));
    assert!(!is_multistream(b"not bzip2 at all"));
}

#[test]
fn index_lines_give_sorted_unique_offsets() {
    let dir = tempfile::tempdir().unwrap();
    let lines = "600:10:AccessibleComputing\n600:12:Anarchism\r\n\
                 95000:25:Autism: a title with colons\n1234:39:Albedo\n\n";
    let plain_path = dir.path().join("index.txt");
    std::fs::write(&plain_path, lines).unwrap();
    let bz_path = dir.path().join("index.txt.bz2");
    let half = lines.len() / 2;
    let (bz, _, _) = multistream(&[
        lines.as_bytes()[..half].to_vec(),
        lines.as_bytes()[half..].to_vec(),
    ]);
    std::fs::write(&bz_path, bz).unwrap();
    for path in [&plain_path, &bz_path] {
        assert_eq!(stream_starts_from_index(path).unwrap(), [600, 1234, 95000]);
    }
    let bad_path = dir.path().join("bad.txt");
    std::fs::write(&bad_path, "600:10:A\nx600:11:B\n").unwrap();
    let err = stream_starts_from_index(&bad_path).unwrap_err();
    assert!(err.to_string().contains("index line 2"), "{err}");
}

#[test]
fn open_with_an_index_matches_multibz() {
    let dir = tempfile::tempdir().unwrap();
    let (file, plain, starts) = multistream(&assorted_pieces());
    let data = dir.path().join("dump-multistream.xml.bz2");
    std::fs::write(&data, &file).unwrap();
    let index = dir.path().join("dump-multistream-index.txt");
    let lines: String = starts[1..]
        .iter()
        .enumerate()
        .flat_map(|(i, s)| [format!("{s}:{i}:Page {i}\n"), format!("{s}:{i}1:Other\n")])
        .collect();
    std::fs::write(&index, lines).unwrap();
    for threads in [1, 2] {
        for index in [None, Some(index.as_path())] {
            let r = ParallelBzReader::open(&data, threads, index).unwrap();
            let (out, err) = drain(r);
            assert!(err.is_none() && out == plain);
        }
    }
}

#[test]
fn reads_in_any_pieces_and_can_stop_early() {
    let (file, plain, _) = multistream(&assorted_pieces());
    let mut r = reader(&file, 2, Vec::new(), SMALL);
    let mut out = Vec::new();
    let mut buf = [0u8; 3];
    while out.len() < 100_000 {
        let n = r.read(&mut buf).unwrap();
        out.extend_from_slice(&buf[..n]);
    }
    assert_eq!(out, plain[..out.len()]);
    drop(r);
    let mut r = reader(&file, 2, Vec::new(), SMALL);
    let mut by_line = Vec::new();
    while r.read_until(b'\n', &mut by_line).unwrap() > 0 {}
    assert!(by_line == plain);
}

#[test]
fn reader_is_send_and_bufread() {
    fn check<T: BufRead + Send + 'static>() {}
    check::<ParallelBzReader>();
}
