//! Comma-separated lists with ranges, for `--dims`, `--features`, `--directions` ….
//!
//! Each comma-separated item is a number or a range:
//! * `a..b` — every integer from `a` to `b` inclusive;
//! * `a..b:+s` — `a, a+s, …` up to `b`;
//! * `a..b:xf` — geometric: `a, a·f, a·f², …` up to `b` (e.g. `4..1024:x2`).
//!
//! Numbers may be written as `1e6`.

/// Parses a list of non-negative reals (see the module docs for the syntax).
pub fn parse_reals(s: &str) -> Result<Vec<f64>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        if let Some((a, rest)) = item.split_once("..") {
            let (b, step) = match rest.split_once(':') {
                Some((b, step)) => (b, Some(step)),
                None => (rest, None),
            };
            let a = num(a)?;
            let b = num(b)?;
            if b < a {
                return Err(format!("range {item}: end is below start"));
            }
            let mut x = a;
            let mut k = 0usize;
            match step {
                None => step_range(&mut out, a, b, 1.0)?,
                Some(st) if st.starts_with('+') => step_range(&mut out, a, b, num(&st[1..])?)?,
                Some(st) if st.starts_with('x') || st.starts_with('*') => {
                    let f = num(&st[1..])?;
                    if f <= 1.0 {
                        return Err(format!("range {item}: factor must be > 1"));
                    }
                    if a <= 0.0 {
                        return Err(format!("range {item}: a geometric range starts above 0"));
                    }
                    while x <= b * (1.0 + 1e-12) {
                        out.push(x);
                        k += 1;
                        if k > 1_000_000 {
                            return Err(format!("range {item}: too many values"));
                        }
                        x *= f;
                    }
                }
                Some(st) => {
                    return Err(format!("range {item}: unknown step {st:?} (use +s or xf)"))
                }
            }
        } else {
            out.push(num(item)?);
        }
    }
    if out.is_empty() {
        return Err("empty list".into());
    }
    Ok(out)
}

fn step_range(out: &mut Vec<f64>, a: f64, b: f64, s: f64) -> Result<(), String> {
    if s <= 0.0 || !s.is_finite() {
        return Err(format!("step {s} must be > 0"));
    }
    if (b - a) / s > 1e6 {
        return Err("too many values in range".into());
    }
    let mut x = a;
    while x <= b * (1.0 + 1e-12) + 1e-12 {
        out.push(x);
        x += s;
    }
    Ok(())
}

fn num(s: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if !x.is_finite() {
        return Err(format!("{s:?} is not a finite number"));
    }
    if x < 0.0 {
        return Err(format!("{s} is negative"));
    }
    Ok(x)
}

/// Parses a list of non-negative integers (see the module docs).
pub fn parse_counts(s: &str) -> Result<Vec<usize>, String> {
    parse_reals(s)?
        .into_iter()
        .map(|x| {
            let r = x.round();
            if r > 1e15 {
                Err(format!("{x} is too large for a count (at most 1e15)"))
            } else if (x - r).abs() > 1e-9 * x.max(1.0) {
                Err(format!("{x} is not a whole number"))
            } else {
                Ok(r as usize)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(parse_counts("2,3,4").unwrap(), vec![2, 3, 4]);
        assert_eq!(parse_counts("2..5").unwrap(), vec![2, 3, 4, 5]);
        assert_eq!(parse_counts("4..1024:x2").unwrap().len(), 9);
        assert_eq!(parse_counts("0..10:+5").unwrap(), vec![0, 5, 10]);
        assert_eq!(parse_reals("1e6").unwrap(), vec![1e6]);
        assert!(parse_counts("1.5").is_err());
        assert!(parse_reals("-1").is_err());
        assert!(parse_reals("nan").is_err());
        assert!(parse_reals("").is_err());
        assert!(parse_reals("5..2").is_err());
    }
}
