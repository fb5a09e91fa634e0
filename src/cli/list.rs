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

/// Largest count in a list.
const MAX_COUNT: u64 = 1_000_000_000_000_000;

/// Parses a list of whole numbers `≥ min` (see the module docs); items are echoed as typed.
pub fn parse_counts(s: &str, min: u64) -> Result<Vec<usize>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let values = if item.contains("..") {
            parse_reals(item)?
                .into_iter()
                .map(|x| whole_of(x, &format!("{item} (value {x})"), min))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            vec![parse_whole(item, min)?]
        };
        for v in values {
            if v > MAX_COUNT {
                return Err(format!(
                    "{} is too large for a count (at most 1e15)",
                    echo(item)
                ));
            }
            out.push(v as usize);
        }
    }
    if out.is_empty() {
        return Err("empty list".into());
    }
    Ok(out)
}

/// `s` as typed, shortened to its first 40 characters when longer.
pub fn echo(s: &str) -> String {
    const MAX: usize = 40;
    if s.chars().count() <= MAX {
        format!("'{s}'")
    } else {
        let head: String = s.chars().take(MAX).collect();
        format!("'{head}…' ({} characters)", s.chars().count())
    }
}

fn whole_error(typed: &str, min: u64, why: &str) -> String {
    format!("expected a whole number ≥ {min}, got {}{why}", echo(typed))
}

fn whole_of(x: f64, typed: &str, min: u64) -> Result<u64, String> {
    // 2^64 as a double; every whole double below it fits in a u64.
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    if !x.is_finite() || x.fract() != 0.0 || x < 0.0 {
        return Err(whole_error(typed, min, ""));
    }
    if x >= TWO_64 {
        return Err(whole_error(typed, min, " (too large)"));
    }
    let v = x as u64;
    if v < min {
        return Err(whole_error(typed, min, ""));
    }
    Ok(v)
}

/// One whole number `≥ min`, in any of the forms every integer flag accepts: digits (exact up
/// to 2^64 − 1), or a decimal or scientific form that is a whole number (`1e9`, `2.5e3`).
/// The error says "expected a whole number ≥ min" and echoes the input as typed.
pub fn parse_whole(s: &str, min: u64) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.strip_prefix('+').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match digits.parse::<u64>() {
            Ok(v) if v >= min => Ok(v),
            Ok(_) => Err(whole_error(s, min, "")),
            Err(_) => Err(whole_error(s, min, " (too large)")),
        };
    }
    match t.parse::<f64>() {
        // `inf`, `nan` parse as doubles but are not numbers as a person writes them.
        Ok(x) if t.bytes().any(|b| b.is_ascii_digit()) => whole_of(x, s, min),
        _ => Err(whole_error(s, min, "")),
    }
}

/// clap value parser for a whole number `≥ min` of type `T` (see [`parse_whole`]).
pub fn whole<T: TryFrom<u64>>(
    min: u64,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static {
    move |s| {
        let v = parse_whole(s, min)?;
        T::try_from(v).map_err(|_| whole_error(s, min, " (too large)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_ranges() {
        assert_eq!(parse_counts("2,3,4", 1).unwrap(), vec![2, 3, 4]);
        assert_eq!(parse_counts("2..5", 1).unwrap(), vec![2, 3, 4, 5]);
        assert_eq!(parse_counts("4..1024:x2", 1).unwrap().len(), 9);
        assert_eq!(parse_counts("0..10:+5", 0).unwrap(), vec![0, 5, 10]);
        assert!(parse_counts("0..10:+5", 1).is_err());
        assert_eq!(parse_counts("1e3", 1).unwrap(), vec![1000]);
        assert_eq!(parse_reals("1e6").unwrap(), vec![1e6]);
        assert!(parse_counts("1.5", 1).is_err());
        assert!(parse_reals("-1").is_err());
        assert!(parse_reals("nan").is_err());
        assert!(parse_reals("").is_err());
        assert!(parse_reals("5..2").is_err());
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(parse_whole("1e9", 1), Ok(1_000_000_000));
        assert_eq!(parse_whole("2.5e3", 1), Ok(2500));
        assert_eq!(parse_whole("18446744073709551615", 0), Ok(u64::MAX));
        assert_eq!(parse_whole("+7", 0), Ok(7));
        for bad in [
            "0",
            "1.5",
            "-3",
            "nan",
            "inf",
            "x",
            "",
            "1e300",
            "18446744073709551616",
        ] {
            let e = parse_whole(bad, 1).unwrap_err();
            assert!(
                e.starts_with("expected a whole number ≥ 1, got"),
                "{bad}: {e}"
            );
            assert!(e.contains(&format!("'{bad}'")), "{bad}: {e}");
        }
        let long = "9".repeat(301);
        let e = parse_whole(&long, 1).unwrap_err();
        assert!(e.len() < 120, "{e}");
        assert_eq!(
            whole::<u8>(0)("300"),
            Err("expected a whole number ≥ 0, got '300' (too large)".into())
        );
    }
}
