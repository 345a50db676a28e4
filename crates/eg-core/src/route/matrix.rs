//! Upstream's latency-matrix text (the input of `solve` and `gencfg`).
//!
//! ```text
//! X 1   2   3        <- header: `X` then the column (destination) ids
//! 1 0   0.5 Inf      <- row: source id then one value per column
//! ```
//! Values are seconds (`f64`, negative allowed) or `Inf` (any case, also `+Inf`/`Infinity`).
//! `Inf`, anything `>= 99999` (upstream's infinity, exactly 99999 included) and the diagonal mean
//! "no edge". Fields are separated by any whitespace. Unlike upstream, CRLF line ends, blank
//! lines (trailing ones included) and `#` comments (whole-line or trailing) are accepted.
//! Errors carry a 1-based line and column (in characters).

use std::fmt;

use super::ids::{is_usable, normalize_upstream_latency, NodeId};
use super::solve::{solve, RouteError, Solution, WeightedEdge};

/// The 6-node example of upstream's `solve -example` / `path.txt`.
pub const EXAMPLE_MATRIX: &str = "X 1   2   3   4   5   6
1 0   0.5 Inf Inf Inf Inf
2 0.5 0   0.5 0.5 Inf Inf
3 Inf 0.5 0   0.5 0.5 Inf
4 Inf 0.5 0.5 0   Inf 0.5
5 Inf Inf 0.5 Inf 0   Inf
6 Inf Inf Inf 0.5 Inf 0
";

/// A parse error at a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatrixError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for MatrixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for MatrixError {}

/// A parsed matrix: the header's ids (in header order) and the finite off-diagonal edges,
/// each with AdditionalCost 0, in row-major order.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyMatrix {
    pub ids: Vec<NodeId>,
    pub edges: Vec<WeightedEdge>,
}

impl LatencyMatrix {
    /// Solves the matrix (no AdditionalCost, edges never expire).
    pub fn solve(&self) -> Result<Solution, RouteError> {
        solve(&self.ids, &self.edges)
    }
}

struct Token<'a> {
    text: &'a str,
    column: usize,
}

/// Splits a line (comment removed) into tokens with their 1-based character columns.
fn tokens(line: &str) -> (Vec<Token<'_>>, usize) {
    let body = match line.find('#') {
        Some(p) => &line[..p],
        None => line,
    };
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None; // (byte, column)
    let mut col = 0;
    for (byte, ch) in body.char_indices() {
        col += 1;
        if ch.is_whitespace() {
            if let Some((b, c)) = start.take() {
                out.push(Token {
                    text: &body[b..byte],
                    column: c,
                });
            }
        } else if start.is_none() {
            start = Some((byte, col));
        }
    }
    if let Some((b, c)) = start {
        out.push(Token {
            text: &body[b..],
            column: c,
        });
    }
    let end_col = body.trim_end().chars().count() + 1;
    (out, end_col)
}

fn err(line: usize, column: usize, message: impl Into<String>) -> MatrixError {
    MatrixError {
        line,
        column,
        message: message.into(),
    }
}

fn parse_id(line: usize, t: &Token<'_>) -> Result<NodeId, MatrixError> {
    let v: u32 = t.text.parse().map_err(|_| {
        err(
            line,
            t.column,
            format!("expected a node id (0-65531), found '{}'", t.text),
        )
    })?;
    if v > u32::from(u16::MAX) || !is_usable(v as NodeId) {
        return Err(err(
            line,
            t.column,
            format!("node id {v} is reserved or too large (must be <= 65531)"),
        ));
    }
    Ok(v as NodeId)
}

fn parse_value(line: usize, t: &Token<'_>) -> Result<f64, MatrixError> {
    let lower = t.text.to_ascii_lowercase();
    let bad = || {
        err(
            line,
            t.column,
            format!("expected a number or Inf, found '{}'", t.text),
        )
    };
    if matches!(lower.as_str(), "inf" | "+inf" | "infinity" | "+infinity") {
        return Ok(f64::INFINITY);
    }
    let v: f64 = t.text.parse().map_err(|_| bad())?;
    if !v.is_finite() {
        return Err(bad());
    }
    Ok(v)
}

/// Parses the matrix text.
pub fn parse_matrix(text: &str) -> Result<LatencyMatrix, MatrixError> {
    let mut ids: Option<Vec<NodeId>> = None;
    let mut seen_rows: Vec<NodeId> = Vec::new();
    let mut edges = Vec::new();
    for (ln, raw) in text.lines().enumerate() {
        let line = ln + 1;
        let (toks, end_col) = tokens(raw);
        if toks.is_empty() {
            continue;
        }
        let Some(cols) = &ids else {
            if !toks[0].text.eq_ignore_ascii_case("x") {
                return Err(err(
                    line,
                    toks[0].column,
                    format!(
                        "expected header starting with 'X', found '{}'",
                        toks[0].text
                    ),
                ));
            }
            if toks.len() < 2 {
                return Err(err(line, end_col, "header lists no node ids"));
            }
            let mut header = Vec::with_capacity(toks.len() - 1);
            for t in &toks[1..] {
                let id = parse_id(line, t)?;
                if header.contains(&id) {
                    return Err(err(
                        line,
                        t.column,
                        format!("duplicate node id {id} in header"),
                    ));
                }
                header.push(id);
            }
            ids = Some(header);
            continue;
        };
        let src = parse_id(line, &toks[0])?;
        if !cols.contains(&src) {
            return Err(err(
                line,
                toks[0].column,
                format!("row id {src} is not in the header"),
            ));
        }
        if seen_rows.contains(&src) {
            return Err(err(
                line,
                toks[0].column,
                format!("duplicate row for node {src}"),
            ));
        }
        seen_rows.push(src);
        let values = &toks[1..];
        if values.len() != cols.len() {
            let column = if values.len() > cols.len() {
                values[cols.len()].column
            } else {
                end_col
            };
            return Err(err(
                line,
                column,
                format!(
                    "row {src} has {} values, expected {} (element number mismatch)",
                    values.len(),
                    cols.len()
                ),
            ));
        }
        for (t, &dst) in values.iter().zip(cols.iter()) {
            let v = parse_value(line, t)?;
            if dst == src || normalize_upstream_latency(v) == f64::INFINITY {
                continue;
            }
            edges.push(WeightedEdge::new(src, dst, v, 0.0));
        }
    }
    match ids {
        Some(ids) => Ok(LatencyMatrix { ids, edges }),
        None => Err(err(
            text.lines().count().max(1),
            1,
            "empty matrix: expected a header line 'X id id ...'",
        )),
    }
}
