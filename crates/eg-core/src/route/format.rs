//! Output of `solve`: upstream's YAML + "Human readable" text, and a JSON form.
//!
//! Text layout (upstream-compatible):
//! ```text
//! NextHopTable:
//!   1:
//!     2: 2
//! DistanceTable:
//!   1:
//!     1: 0
//!     2: 0.5
//! DistanceTableWithoutAdditionalaCost:
//!   ...
//!
//! Human readable:
//! src<TAB>dist<TAB><TAB>path
//! 1 -> 2<TAB>0.500000<TAB>[1 2]
//! ```
//! * `DistanceTableWithoutAdditionalaCost` keeps upstream's misspelling so existing parsers of
//!   the output keep working; the JSON form uses the correct spelling.
//! * Floats in the YAML follow Go's `strconv.FormatFloat(x, 'g', -1, 64)` as yaml.v2 prints them
//!   (`0.5`, `1.5e-05`, `1e+06`, `.inf` for unreachable). Keys ascend numerically; a row with
//!   no next hops prints `{}`.
//! * The human-readable part has one line per ordered pair `src != dst` that is reachable,
//!   sorted by (src, dst): `"%d -> %d\t%f\t[path]"` with the distance including AC.

use std::fmt::Write;

use super::ids::{NodeId, INVALID};
use super::solve::Solution;

/// Formats like Go's `strconv.FormatFloat(x, 'g', -1, 64)`, with yaml.v2's `.inf`/`.nan`.
pub fn go_float(x: f64) -> String {
    if x.is_nan() {
        return ".nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if x == 0.0 {
        return if x.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let sci = format!("{x:e}"); // shortest round-trip digits, e.g. "-1.5e-5"
    let (mant, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("integer exponent");
    // Go: %e form iff exp < -4 || exp >= 6 (shortest precision uses 6 for this decision).
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{x}")
}

fn yaml_table(
    out: &mut String,
    title: &str,
    sol: &Solution,
    cell: impl Fn(usize, usize) -> Option<String>,
) {
    let n = sol.len();
    let _ = writeln!(out, "{title}:");
    for i in 0..n {
        let cells: Vec<(usize, String)> =
            (0..n).filter_map(|j| cell(i, j).map(|c| (j, c))).collect();
        if cells.is_empty() {
            let _ = writeln!(out, "  {}: {{}}", sol.ids()[i]);
            continue;
        }
        let _ = writeln!(out, "  {}:", sol.ids()[i]);
        for (j, c) in cells {
            let _ = writeln!(out, "    {}: {c}", sol.ids()[j]);
        }
    }
}

fn go_slice(path: &[NodeId]) -> String {
    let parts: Vec<String> = path.iter().map(|v| v.to_string()).collect();
    format!("[{}]", parts.join(" "))
}

/// The full text output of `solve`.
pub fn format_solve_text(sol: &Solution) -> String {
    let n = sol.len();
    let ids = sol.ids();
    let mut out = String::new();
    let next = sol.next_table();
    yaml_table(&mut out, "NextHopTable", sol, |i, j| {
        let v = next[i * n + j];
        (v != INVALID).then(|| v.to_string())
    });
    let dist = sol.dist_table();
    yaml_table(&mut out, "DistanceTable", sol, |i, j| {
        Some(go_float(dist[i * n + j]))
    });
    let dna = sol.dist_no_ac_table();
    yaml_table(
        &mut out,
        "DistanceTableWithoutAdditionalaCost",
        sol,
        |i, j| Some(go_float(dna[i * n + j])),
    );
    out.push_str("\nHuman readable:\nsrc\tdist\t\tpath\n");
    for &s in ids {
        for &d in ids {
            if s == d {
                continue;
            }
            if let Some(p) = sol.path(s, d) {
                let _ = writeln!(out, "{s} -> {d}\t{:.6}\t{}", sol.dist(s, d), go_slice(&p));
            }
        }
    }
    out
}

fn json_num(x: f64) -> String {
    // Finite only (callers skip infinities); Rust's Display never uses an exponent.
    format!("{x}")
}

fn json_table(out: &mut String, sol: &Solution, cell: impl Fn(usize, usize) -> Option<String>) {
    let n = sol.len();
    out.push('{');
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{}\":{{", sol.ids()[i]);
        let mut first = true;
        for j in 0..n {
            if let Some(c) = cell(i, j) {
                if !first {
                    out.push(',');
                }
                first = false;
                let _ = write!(out, "\"{}\":{c}", sol.ids()[j]);
            }
        }
        out.push('}');
    }
    out.push('}');
}

/// JSON form: `{"nodes":[..],"NextHopTable":{"1":{"2":2}},"DistanceTable":{..},
/// "DistanceTableWithoutAdditionalCost":{..},"paths":[{"src":1,"dst":2,"dist":0.5,
/// "dist_no_ac":0.5,"path":[1,2]}]}`. Unreachable pairs are omitted (JSON has no infinity).
pub fn format_solve_json(sol: &Solution) -> String {
    let n = sol.len();
    let ids = sol.ids();
    let mut out = String::from("{\"nodes\":[");
    out.push_str(
        &ids.iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("],\"NextHopTable\":");
    let next = sol.next_table();
    json_table(&mut out, sol, |i, j| {
        let v = next[i * n + j];
        (v != INVALID).then(|| v.to_string())
    });
    out.push_str(",\"DistanceTable\":");
    let dist = sol.dist_table();
    json_table(&mut out, sol, |i, j| {
        dist[i * n + j]
            .is_finite()
            .then(|| json_num(dist[i * n + j]))
    });
    out.push_str(",\"DistanceTableWithoutAdditionalCost\":");
    let dna = sol.dist_no_ac_table();
    json_table(&mut out, sol, |i, j| {
        dna[i * n + j].is_finite().then(|| json_num(dna[i * n + j]))
    });
    out.push_str(",\"paths\":[");
    let mut first = true;
    for &s in ids {
        for &d in ids {
            if s == d {
                continue;
            }
            if let Some(p) = sol.path(s, d) {
                if !first {
                    out.push(',');
                }
                first = false;
                let path: Vec<String> = p.iter().map(|v| v.to_string()).collect();
                let _ = write!(
                    out,
                    "{{\"src\":{s},\"dst\":{d},\"dist\":{},\"dist_no_ac\":{},\"path\":[{}]}}",
                    json_num(sol.dist(s, d)),
                    json_num(sol.dist_no_ac(s, d)),
                    path.join(",")
                );
            }
        }
    }
    out.push_str("]}");
    out
}
