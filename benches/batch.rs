//! Batch throughput end to end, file to file (read, decode, evaluate,
//! encode, write), on the frozen policies, against two floors measured in
//! the same run on the same number of threads:
//!
//! - serde_json: each line parsed into a `serde_json::Value` and written
//!   back (no checking, no deciding);
//! - the native floor (`native/`): the rulebook by hand, writing what
//!   `rpl eval --batch` writes.
//!
//! Both run in one driver shaped like `rpl eval --batch`: chunks of 1,024
//! lines, each decided in parallel (rayon) and written in input order, the
//! output built beside its target, synced and renamed into place as `rpl`
//! does. `rpl` itself runs as a child process; its peak resident memory
//! comes from `/usr/bin/time` when that is installed.
//!
//! Checked on the way: each output has one line per input line; `rpl`
//! writes the same bytes on 1 and 2 threads; the native floor writes
//! `rpl`'s line for every decided request and policy error, and the same
//! error code for every other line.
//!
//! Run: `cargo bench --bench batch` (200,000 lines: about 1 minute);
//! `RPL_BENCH_LINES=1000000 cargo bench --bench batch` for a million.

// A benchmark's setup failing is a broken benchmark: stop loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod native;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rayon::prelude::*;

/// Lines read and decided together, as `rpl eval --batch` reads them.
const CHUNK_LINES: usize = 1024;
/// Lines one task decides into one buffer: enough tasks per chunk for
/// work stealing to balance the threads.
const TASK_LINES: usize = 64;
/// Timed runs of each contender; the best counts.
const RUNS: usize = 3;
const THREADS: [usize; 2] = [1, 2];

/// One input line into its output line (with its line break).
type PerLine<'a> = dyn Fn(u64, &[u8], &mut Vec<u8>) + Sync + 'a;

/// Reads `input` a chunk at a time, turns each chunk's lines into output
/// lines on `pool`, and writes them in input order to `output`, built
/// beside it and renamed into place once synced to disk. As in `rpl eval
/// --batch`, this thread writes the chunk before and reads the chunk
/// after while the pool decides one.
fn drive(input: &Path, output: &Path, pool: &rayon::ThreadPool, per_line: &PerLine<'_>) {
    let mut reader = BufReader::with_capacity(1 << 16, File::open(input).unwrap());
    let folder = output.parent().unwrap();
    let temp = tempfile::NamedTempFile::new_in(folder).unwrap();
    let mut writer = BufWriter::with_capacity(1 << 16, temp);
    // A chunk: its lines' bytes end to end, and where each line ends.
    let read = |reader: &mut BufReader<File>, (text, ends): &mut (Vec<u8>, Vec<usize>)| {
        text.clear();
        ends.clear();
        while ends.len() < CHUNK_LINES {
            if reader.read_until(b'\n', text).unwrap() == 0 {
                break;
            }
            ends.push(text.len());
        }
    };
    let chunk = || (Vec::with_capacity(1 << 20), Vec::with_capacity(CHUNK_LINES));
    let (mut current, mut next) = (chunk(), chunk());
    read(&mut reader, &mut current);
    let mut pending: Vec<Vec<u8>> = Vec::new();
    let mut number = 0;
    loop {
        let (text, ends) = &current;
        let last = ends.is_empty();
        let mut start = 0;
        let lines: Vec<&[u8]> = ends
            .iter()
            .map(|&end| {
                let line = text.get(start..end).unwrap();
                start = end;
                let line = line.strip_suffix(b"\n").unwrap_or(line);
                line.strip_suffix(b"\r").unwrap_or(line)
            })
            .collect();
        let first = number + 1;
        number += lines.len() as u64;
        let mut outputs: Vec<Vec<u8>> = Vec::new();
        pool.in_place_scope(|s| {
            s.spawn(|_| {
                outputs = lines
                    .par_chunks(TASK_LINES)
                    .enumerate()
                    .map(|(task, lines)| {
                        let mut out = Vec::with_capacity(lines.len() * 512);
                        let from = first + (task * TASK_LINES) as u64;
                        for (i, line) in lines.iter().enumerate() {
                            per_line(from + i as u64, line, &mut out);
                        }
                        out
                    })
                    .collect();
            });
            for out in pending.drain(..) {
                writer.write_all(&out).unwrap();
            }
            if !last {
                read(&mut reader, &mut next);
            }
        });
        pending = outputs;
        if last {
            break;
        }
        std::mem::swap(&mut current, &mut next);
    }
    let temp = writer.into_inner().unwrap();
    temp.as_file().sync_all().unwrap();
    temp.persist(output).unwrap();
    File::open(folder).unwrap().sync_all().unwrap();
}

/// The serde_json floor: parse into a `Value`, write it back.
fn reserialise(_: u64, line: &[u8], out: &mut Vec<u8>) {
    match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(value) => serde_json::to_writer(&mut *out, &value).unwrap(),
        Err(e) => {
            out.extend_from_slice(b"{\"error\":");
            serde_json::to_writer(&mut *out, &e.to_string()).unwrap();
            out.push(b'}');
        }
    }
    out.push(b'\n');
}

/// `rpl eval --batch` on `threads` threads: its summary (`--summary
/// json`), and its peak resident size in KiB when `/usr/bin/time` can tell.
fn rpl_batch(
    input: &Path,
    output: &Path,
    policies: &Path,
    threads: usize,
) -> (serde_json::Value, Option<u64>) {
    let rpl = env!("CARGO_BIN_EXE_rpl");
    let time = Path::new("/usr/bin/time");
    let rss = output.with_extension("rss");
    let mut command = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "%M", "-o"]).arg(&rss).arg(rpl);
        c
    } else {
        Command::new(rpl)
    };
    command
        .arg("eval")
        .arg("--batch")
        .arg(input)
        .arg("-o")
        .arg(output)
        .args(["--threads", &threads.to_string(), "--summary", "json"])
        .arg("--policies")
        .arg(policies)
        .env("NO_COLOR", "1");
    let done = command.output().unwrap();
    // 1: some line has an error record, as 1% of the lines are broken.
    assert!(
        matches!(done.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let stderr = String::from_utf8_lossy(&done.stderr);
    let summary = stderr
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("no summary on stderr: {stderr}"));
    // GNU time writes "Command exited with non-zero status 1" first.
    let kib = std::fs::read_to_string(&rss)
        .ok()
        .and_then(|k| k.lines().last()?.trim().parse().ok());
    (summary, kib)
}

/// What `rpl eval --batch`'s summary says of its output, counted from the
/// output itself: records, and decisions and errors by kind.
fn counted(path: &Path) -> serde_json::Value {
    let (mut records, mut decisions, mut errors) = (0_u64, BTreeMap::new(), BTreeMap::new());
    for line in BufReader::new(File::open(path).unwrap()).split(b'\n') {
        let record: serde_json::Value = serde_json::from_slice(&line.unwrap()).unwrap();
        records += 1;
        let kind = match record.pointer("/error/code").and_then(|c| c.as_str()) {
            Some(code) => {
                *errors.entry(code.to_owned()).or_insert(0_u64) += 1;
                "error".to_owned()
            }
            None => record
                .get("decision")
                .and_then(|d| d.as_str())
                .unwrap()
                .to_owned(),
        };
        *decisions.entry(kind).or_insert(0_u64) += 1;
    }
    serde_json::json!({ "records": records, "decisions": decisions, "errors": errors })
}

/// Runs `run` once, adding its wall time to `times`.
fn timed<F: FnMut()>(times: &mut Vec<Duration>, mut run: F) {
    let start = Instant::now();
    run();
    times.push(start.elapsed());
}

/// Calls `each` on the file's bytes a buffer at a time: outputs of a
/// million lines are not read into memory whole.
fn scan(path: &Path, mut each: impl FnMut(&[u8])) {
    let mut reader = BufReader::with_capacity(1 << 20, File::open(path).unwrap());
    loop {
        let buffer = reader.fill_buf().unwrap();
        if buffer.is_empty() {
            break;
        }
        each(buffer);
        let n = buffer.len();
        reader.consume(n);
    }
}

fn line_count(path: &Path) -> usize {
    let mut lines = 0;
    scan(path, |bytes| {
        lines += bytes.iter().filter(|b| **b == b'\n').count()
    });
    lines
}

/// Whether two files hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> bool {
    let mut other = BufReader::with_capacity(1 << 20, File::open(b).unwrap());
    let mut same = true;
    let mut at = vec![0; 1 << 20];
    scan(a, |bytes| {
        let theirs = at.get_mut(..bytes.len()).unwrap();
        same &= other.read_exact(theirs).is_ok() && theirs == bytes;
    });
    same && other.fill_buf().unwrap().is_empty()
}

/// The native floor's output against `rpl`'s: equal lines, or both error
/// records with one code. Returns (equal lines, lines with the same code).
fn agreement(native: &Path, rpl: &Path) -> (usize, usize) {
    let native = BufReader::new(File::open(native).unwrap());
    let rpl = BufReader::new(File::open(rpl).unwrap());
    let (mut same, mut same_code) = (0, 0);
    for (n, (ours, theirs)) in native.lines().zip(rpl.lines()).enumerate() {
        let (ours, theirs) = (ours.unwrap(), theirs.unwrap());
        if ours == theirs {
            same += 1;
            continue;
        }
        let code = |line: &str| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v.pointer("/error/code")?.as_str().map(str::to_owned)
        };
        let theirs_code = code(&theirs);
        assert!(
            theirs_code
                .as_deref()
                .is_some_and(|c| c.starts_with("rpl::request::")),
            "line {}: the native floor differs on a decided line\nnative: {ours}\nrpl:    {theirs}",
            n + 1
        );
        assert_eq!(code(&ours), theirs_code, "line {}", n + 1);
        same_code += 1;
    }
    (same, same_code)
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let lines: usize = std::env::var("RPL_BENCH_LINES")
        .ok()
        .map(|v| {
            v.replace('_', "")
                .parse()
                .expect("RPL_BENCH_LINES: a number")
        })
        .unwrap_or(200_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policies = root.join("tests/fixtures/frozen/policies");
    let dir = tempfile::Builder::new()
        .prefix("rpl-batch-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let at = |name: &str| -> PathBuf { dir.path().join(name) };
    let input = at("requests.jsonl");

    let start = Instant::now();
    let generated = Command::new(env!("CARGO_BIN_EXE_rpl"))
        .arg("generate")
        .arg("--policies")
        .arg(&policies)
        .args([
            "--count",
            &lines.to_string(),
            "--seed",
            "7",
            "--bad",
            "0.01",
        ])
        .arg("-o")
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let bytes = std::fs::metadata(&input).unwrap().len();
    eprintln!(
        "generated {lines} lines ({:.1} MB, --bad 0.01) in {:.1} s",
        bytes as f64 / 1e6,
        seconds(start.elapsed())
    );

    let floor = native::Floor::load(&policies).unwrap();
    let native_line = |n: u64, line: &[u8], out: &mut Vec<u8>| floor.line(n, line, out);
    let mut rows = Vec::new();
    for threads in THREADS {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let serde_out = at(&format!("serde-{threads}.jsonl"));
        let native_out = at(&format!("native-{threads}.jsonl"));
        let rpl_out = at(&format!("rpl-{threads}.jsonl"));
        let (mut serde, mut native, mut rpl) = (Vec::new(), Vec::new(), Vec::new());
        let mut peak_kib = None;
        let mut summary = None;
        // Interleaved, so that the machine's load drifting between runs
        // touches each contender alike.
        for _ in 0..RUNS {
            timed(&mut serde, || {
                drive(&input, &serde_out, &pool, &reserialise)
            });
            timed(&mut native, || {
                drive(&input, &native_out, &pool, &native_line)
            });
            timed(&mut rpl, || {
                let (said, kib) = rpl_batch(&input, &rpl_out, &policies, threads);
                summary = Some(said);
                peak_kib = peak_kib.max(kib);
            });
        }
        let said = summary.unwrap();
        let count = counted(&rpl_out);
        for key in ["records", "decisions", "errors"] {
            assert_eq!(said.get(key), count.get(key), "the summary's {key}");
        }
        for out in [&serde_out, &native_out, &rpl_out] {
            assert_eq!(line_count(out), lines, "{}", out.display());
        }
        let (same, same_code) = agreement(&native_out, &rpl_out);
        eprintln!(
            "{threads} thread(s): native = rpl on {same} lines, the same error code on the other {same_code} (malformed lines); rpl's summary counts its records right"
        );
        let fastest = |times: &[Duration]| times.iter().min().copied().unwrap();
        rows.push((
            threads,
            fastest(&serde),
            fastest(&native),
            fastest(&rpl),
            peak_kib,
        ));
    }
    assert!(
        same_bytes(&at("rpl-1.jsonl"), &at("rpl-2.jsonl")),
        "rpl's output differs between 1 and 2 threads"
    );
    eprintln!("rpl's output is the same byte for byte on 1 and 2 threads");

    println!(
        "\nbatch of {lines} lines ({:.1} MB, --bad 0.01), file to file, best of {RUNS}:",
        bytes as f64 / 1e6
    );
    println!(
        "{:>7}  {:>11}  {:>12}  {:>11}  {:>10}  {:>9}  {:>12}  {:>12}",
        "threads",
        "serde_json",
        "native floor",
        "rpl",
        "rpl/native",
        "rpl/serde",
        "rpl lines/s",
        "rpl peak RSS"
    );
    for (threads, serde, native, rpl, peak_kib) in rows {
        let peak = peak_kib.map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0));
        println!(
            "{threads:>7}  {:>9.3} s  {:>10.3} s  {:>9.3} s  {:>9.2}x  {:>8.2}x  {:>12.0}  {peak:>12}",
            seconds(serde),
            seconds(native),
            seconds(rpl),
            seconds(rpl) / seconds(native),
            seconds(rpl) / seconds(serde),
            lines as f64 / seconds(rpl),
        );
    }
    println!("(rpl lines/s: the line count over rpl's best time)");
}
