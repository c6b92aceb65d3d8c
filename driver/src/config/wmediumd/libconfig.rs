//! A reader for the libconfig syntax as wmediumd's files use it: settings `name = value;` or
//! `name : value;` (the `;` or `,` after a setting is optional), groups `{ … }`, arrays
//! `[ … ]` of scalars of one type, lists `( … )` of any values, integers (decimal, `0x` hex,
//! `0b` binary, `0o` octal, an `L`/`LL` suffix), floats, booleans (`true`/`false` in any case),
//! strings with the escapes `\\ \" \f \n \r \t \xNN` (adjacent strings join), and the comments
//! `#`, `//` and `/* */`. `@include` is refused: a converted file must stand alone.
//!
//! Every value keeps its line and column, so what the mapping refuses can be pointed at. The
//! reader never panics: malformed input, nesting deeper than [`MAX_DEPTH`] and numbers out of
//! range are errors with a place.

/// Deepest nesting of groups, arrays and lists accepted (wmediumd's files nest three deep; the
/// bound keeps a hostile file from exhausting the stack).
pub const MAX_DEPTH: usize = 32;

/// 1-based line and column (in characters) of a value or setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    /// Line.
    pub line: usize,
    /// Column.
    pub column: usize,
}

/// A syntax error and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// Where.
    pub at: Place,
    /// What is wrong.
    pub message: String,
}

/// A named setting of a group (the file itself is the outermost group).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    /// Its name.
    pub name: String,
    /// Where the name is written.
    pub at: Place,
    /// Its value.
    pub value: Value,
}

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    /// Where the value starts.
    pub at: Place,
    /// What it is.
    pub kind: Kind,
}

/// The kinds of libconfig value.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `true` / `false`.
    Bool(bool),
    /// An integer (32- or 64-bit in libconfig).
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// `[ … ]`: scalars of one kind.
    Array(Vec<Value>),
    /// `( … )`: any values.
    List(Vec<Value>),
    /// `{ … }`: named settings.
    Group(Vec<Setting>),
}

impl Kind {
    /// What a user calls it, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a float",
            Kind::Str(_) => "a string",
            Kind::Array(_) => "an array [ … ]",
            Kind::List(_) => "a list ( … )",
            Kind::Group(_) => "a group { … }",
        }
    }

    fn is_scalar(&self) -> bool {
        matches!(
            self,
            Kind::Bool(_) | Kind::Int(_) | Kind::Float(_) | Kind::Str(_)
        )
    }
}

/// Parses a whole file: its top-level settings.
pub fn parse(text: &str) -> Result<Vec<Setting>, SyntaxError> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        line: 1,
        column: 1,
    };
    let settings = p.settings(0, None)?;
    Ok(settings)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    line: usize,
    column: usize,
}

impl Parser<'_> {
    fn place(&self) -> Place {
        Place {
            line: self.line,
            column: self.column,
        }
    }

    fn fail<T>(&self, at: Place, message: impl Into<String>) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            at,
            message: message.into(),
        })
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<u8> {
        self.s.get(self.pos + ahead).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos += 1;
        if b == b'\n' {
            self.line += 1;
            self.column = 1;
        } else if b & 0xC0 != 0x80 {
            // Columns count characters: UTF-8 continuation bytes do not start one.
            self.column += 1;
        }
        Some(b)
    }

    /// Skips blanks and comments.
    fn skip(&mut self) -> Result<(), SyntaxError> {
        loop {
            match (self.peek(), self.peek_at(1)) {
                (Some(b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' | b'\x0b'), _) => {
                    self.bump();
                }
                (Some(b'#'), _) | (Some(b'/'), Some(b'/')) => {
                    while !matches!(self.peek(), None | Some(b'\n')) {
                        self.bump();
                    }
                }
                (Some(b'/'), Some(b'*')) => {
                    let start = self.place();
                    self.bump();
                    self.bump();
                    loop {
                        match (self.peek(), self.peek_at(1)) {
                            (None, _) => return self.fail(start, "unterminated /* comment"),
                            (Some(b'*'), Some(b'/')) => {
                                self.bump();
                                self.bump();
                                break;
                            }
                            _ => {
                                self.bump();
                            }
                        }
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// Settings up to `close` (`None`: the end of the file).
    fn settings(&mut self, depth: usize, close: Option<u8>) -> Result<Vec<Setting>, SyntaxError> {
        let mut out: Vec<Setting> = Vec::new();
        loop {
            self.skip()?;
            let at = self.place();
            match (self.peek(), close) {
                (None, None) => return Ok(out),
                (None, Some(_)) => return self.fail(at, "missing `}` at the end of the file"),
                (Some(b), Some(c)) if b == c => {
                    self.bump();
                    return Ok(out);
                }
                (Some(b'@'), _) => {
                    return self.fail(
                        at,
                        "@include and other directives are not supported: give one file",
                    )
                }
                _ => {}
            }
            let name = self.name()?;
            if let Some(first) = out.iter().find(|s| s.name == name) {
                return self.fail(
                    at,
                    format!(
                        "duplicate setting `{name}` (first at line {})",
                        first.at.line
                    ),
                );
            }
            self.skip()?;
            match self.peek() {
                Some(b'=' | b':') => {
                    self.bump();
                }
                _ => {
                    let here = self.place();
                    return self.fail(here, format!("expected `=` or `:` after `{name}`"));
                }
            }
            let value = self.value(depth)?;
            self.skip()?;
            if matches!(self.peek(), Some(b';' | b',')) {
                self.bump();
            }
            out.push(Setting { name, at, value });
        }
    }

    fn name(&mut self) -> Result<String, SyntaxError> {
        let at = self.place();
        let start = self.pos;
        match self.peek() {
            Some(b) if b.is_ascii_alphabetic() || b == b'*' => {
                self.bump();
            }
            Some(_) => {
                let shown = self.shown_char();
                return self.fail(at, format!("expected a setting name, found {shown}"));
            }
            None => return self.fail(at, "expected a setting name"),
        }
        while let Some(b) = self.peek() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'*') {
                self.bump();
            } else {
                break;
            }
        }
        // Only ASCII was consumed, so this slice is valid UTF-8.
        Ok(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    /// The character at the cursor, quoted, for messages.
    fn shown_char(&self) -> String {
        let rest = self.s.get(self.pos..).unwrap_or_default();
        let text = String::from_utf8_lossy(&rest[..rest.len().min(4)]).into_owned();
        match text.chars().next() {
            Some(c) => format!("{c:?}"),
            None => "the end of the file".into(),
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, SyntaxError> {
        self.skip()?;
        let at = self.place();
        if depth >= MAX_DEPTH {
            return self.fail(at, format!("nested deeper than {MAX_DEPTH} levels"));
        }
        let kind = match self.peek() {
            Some(b'{') => {
                self.bump();
                Kind::Group(self.settings(depth + 1, Some(b'}'))?)
            }
            Some(b'[') => {
                self.bump();
                let items = self.items(depth + 1, b']')?;
                if let Some(bad) = items.iter().find(|v| !v.kind.is_scalar()) {
                    return self.fail(
                        bad.at,
                        format!(
                            "an array [ … ] holds scalars; this is {} (use a list ( … ))",
                            bad.kind.describe()
                        ),
                    );
                }
                if let Some(first) = items.first() {
                    let same = |v: &Value| {
                        std::mem::discriminant(&v.kind) == std::mem::discriminant(&first.kind)
                    };
                    if let Some(bad) = items.iter().find(|v| !same(v)) {
                        return self.fail(
                            bad.at,
                            format!(
                                "an array's elements share one type: this is {}, the first is {}",
                                bad.kind.describe(),
                                first.kind.describe()
                            ),
                        );
                    }
                }
                Kind::Array(items)
            }
            Some(b'(') => {
                self.bump();
                Kind::List(self.items(depth + 1, b')')?)
            }
            Some(b'"') => Kind::Str(self.strings()?),
            Some(b) if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.') => self.number()?,
            Some(b) if b.is_ascii_alphabetic() => {
                let word = self.name()?;
                match word.to_ascii_lowercase().as_str() {
                    "true" => Kind::Bool(true),
                    "false" => Kind::Bool(false),
                    _ => {
                        return self.fail(
                            at,
                            format!("`{word}` is not a value (strings are written in quotes)"),
                        )
                    }
                }
            }
            _ => {
                let shown = self.shown_char();
                return self.fail(at, format!("expected a value, found {shown}"));
            }
        };
        Ok(Value { at, kind })
    }

    /// Comma-separated values up to `close` (a trailing comma is accepted).
    fn items(&mut self, depth: usize, close: u8) -> Result<Vec<Value>, SyntaxError> {
        let mut out = Vec::new();
        loop {
            self.skip()?;
            if self.peek() == Some(close) {
                self.bump();
                return Ok(out);
            }
            out.push(self.value(depth)?);
            self.skip()?;
            let at = self.place();
            match self.peek() {
                Some(b',') => {
                    self.bump();
                }
                Some(b) if b == close => {
                    self.bump();
                    return Ok(out);
                }
                None => {
                    return self.fail(
                        at,
                        format!("missing `{}` at the end of the file", close as char),
                    )
                }
                Some(_) => {
                    let shown = self.shown_char();
                    return self.fail(
                        at,
                        format!("expected `,` or `{}`, found {shown}", close as char),
                    );
                }
            }
        }
    }

    /// One or more adjacent string literals, joined.
    fn strings(&mut self) -> Result<String, SyntaxError> {
        let mut bytes = Vec::new();
        let start = self.place();
        loop {
            let at = self.place();
            self.bump(); // the opening quote
            loop {
                match self.bump() {
                    None | Some(b'\n') => return self.fail(at, "unterminated string"),
                    Some(b'"') => break,
                    Some(b'\\') => {
                        let esc = self.place();
                        match self.bump() {
                            Some(b'\\') => bytes.push(b'\\'),
                            Some(b'"') => bytes.push(b'"'),
                            Some(b'f') => bytes.push(0x0c),
                            Some(b'n') => bytes.push(b'\n'),
                            Some(b'r') => bytes.push(b'\r'),
                            Some(b't') => bytes.push(b'\t'),
                            Some(b'x') => {
                                let hex = |b: Option<u8>| {
                                    b.and_then(|b| (b as char).to_digit(16)).map(|d| d as u8)
                                };
                                match (hex(self.bump()), hex(self.bump())) {
                                    (Some(h), Some(l)) => bytes.push(h << 4 | l),
                                    _ => return self.fail(esc, "\\x needs two hex digits"),
                                }
                            }
                            _ => return self.fail(esc, "unknown escape in string"),
                        }
                    }
                    Some(b) => bytes.push(b),
                }
            }
            self.skip()?;
            if self.peek() != Some(b'"') {
                break;
            }
        }
        String::from_utf8(bytes).or_else(|_| self.fail(start, "the string is not valid UTF-8"))
    }

    fn number(&mut self) -> Result<Kind, SyntaxError> {
        let at = self.place();
        let start = self.pos;
        while let Some(b) = self.peek() {
            let exponent_sign = matches!(b, b'+' | b'-')
                && self.pos > start
                && matches!(self.s[self.pos - 1], b'e' | b'E')
                && !self.s[start..self.pos].starts_with(b"0x")
                && !self.s[start..self.pos].starts_with(b"0X");
            if b.is_ascii_alphanumeric()
                || b == b'.'
                || (self.pos == start && matches!(b, b'-' | b'+'))
                || exponent_sign
            {
                self.bump();
            } else {
                break;
            }
        }
        let word = String::from_utf8_lossy(&self.s[start..self.pos]).into_owned();
        let bad = |what: &str| SyntaxError {
            at,
            message: format!("`{word}` is not {what}"),
        };
        let (negative, digits) = match word.as_bytes().first() {
            Some(b'-') => (true, &word[1..]),
            Some(b'+') => (false, &word[1..]),
            _ => (false, word.as_str()),
        };
        let digits = digits.trim_end_matches(['L', 'l']);
        let radix = [
            ("0x", 16),
            ("0X", 16),
            ("0b", 2),
            ("0B", 2),
            ("0o", 8),
            ("0O", 8),
        ]
        .into_iter()
        .find(|(p, _)| digits.starts_with(p));
        let magnitude = match radix {
            Some((p, r)) => u64::from_str_radix(&digits[p.len()..], r)
                .map_err(|_| bad("a number"))
                .map(Some)?,
            None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => Some(
                digits
                    .parse::<u64>()
                    .map_err(|_| bad("an integer in range"))?,
            ),
            None => None,
        };
        if let Some(m) = magnitude {
            let value = if negative {
                0i64.checked_sub_unsigned(m)
            } else {
                i64::try_from(m).ok()
            };
            return value
                .map(Kind::Int)
                .ok_or_else(|| bad("an integer in range"));
        }
        // A float: digits with a `.` or an exponent (libconfig also allows `5.` and `.5`).
        let float_chars = word
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
        let has_digit = word.bytes().any(|b| b.is_ascii_digit());
        match word.parse::<f64>() {
            Ok(v) if float_chars && has_digit && v.is_finite() => Ok(Kind::Float(v)),
            _ => Err(bad("a number")),
        }
    }
}
