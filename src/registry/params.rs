//! Parameter types shared by many tools. Each carries its own schema (type, range, allowed values;
//! no description: the field's doc gives that) and its own check, so a params struct says what it
//! takes by its field types alone, and a refused value is reported by parameter name without being
//! echoed.
//!
//! - [`Limit<MAX>`]: a page size from 1 to MAX.
//! - [`ContiguousId`], [`PageToken`], [`Cursor`]: the three cursor styles of caller-driven paging.
//! - [`Name`]: a non-empty name or id. [`Id`]: a positive numeric id. [`Port`]: 1-65535.
//! - [`WaitSeconds`]: how long a call waits for long work, 0 to [`MAX_WAIT_SECONDS`].
//! - [`wire_enum!`](crate::wire_enum): a closed set of values, matched case-insensitively, sent
//!   in its wire spelling.
//! - [`NonEmpty`]: a list of at least one item.
//! - [`lenient_int`], [`bounded_int`]: whole numbers given as JSON numbers or numeric text.

use std::borrow::Cow;
use std::fmt;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// How many items one page holds: 1 to `MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit<const MAX: u32>(pub u32);

impl<const MAX: u32> Limit<MAX> {
    pub fn get(self) -> u32 {
        self.0
    }
}

impl<'de, const MAX: u32> Deserialize<'de> for Limit<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bounded_int(d, 1, i64::from(MAX)).map(|n| Limit(n as u32))
    }
}

impl<const MAX: u32> Serialize for Limit<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.0)
    }
}

impl<const MAX: u32> JsonSchema for Limit<MAX> {
    fn schema_name() -> Cow<'static, str> {
        format!("Limit{MAX}").into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "integer",
            "minimum": 1,
            "maximum": MAX
        })
    }
}

/// A text value that must not be empty: `text_type!(/// doc, Name, what, description)`. `what`
/// names the expected value in the refusal (`must be a non-empty <what>`). `description` is not
/// used: the schema is only `{"type": "string", "minLength": 1}`, and the field's own doc (or the
/// shared parameter's description) says what the value is.
macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $what:literal, $description:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                match Value::deserialize(d)? {
                    Value::String(s) if s.trim().is_empty() => {
                        Err(serde::de::Error::custom(concat!("must be a non-empty ", $what)))
                    }
                    Value::String(s) => Ok($name(s)),
                    _ => Err(serde::de::Error::custom(concat!("must be a ", $what))),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "string", "minLength": 1})
            }
        }
    };
}

text_type!(
    /// A name or id that must not be empty (empty text is refused before anything is sent).
    Name,
    "string",
    "A non-empty name or id."
);
text_type!(
    /// The `contiguous_id` cursor of the previous page.
    ContiguousId,
    "cursor string",
    "The previous page's contiguous_id; omit for the first page."
);
text_type!(
    /// The `page_token` cursor of the previous page.
    PageToken,
    "page token",
    "The previous page's next_page_token; omit for the first page."
);
text_type!(
    /// The `cursor` of the previous page.
    Cursor,
    "cursor string",
    "The previous page's cursor. Omit for the first page."
);

/// A positive whole number (numeric ids); numeric text is accepted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub i64);

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A whole number given as a JSON number or as numeric text (clients differ); `None` otherwise.
pub fn lenient_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    })
}

/// A whole number within `min..=max`, from a JSON number or numeric text ([`lenient_int`]); the
/// error states the range, not the value.
pub fn bounded_int<'de, D: Deserializer<'de>>(d: D, min: i64, max: i64) -> Result<i64, D::Error> {
    match lenient_int(d)? {
        Some(n) if (min..=max).contains(&n) => Ok(n),
        _ if max == i64::MAX => Err(serde::de::Error::custom(format!(
            "must be a whole number of at least {min}"
        ))),
        _ => Err(serde::de::Error::custom(format!(
            "must be a whole number from {min} to {max}"
        ))),
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bounded_int(d, 1, i64::MAX).map(Id)
    }
}

impl Serialize for Id {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl JsonSchema for Id {
    fn schema_name() -> Cow<'static, str> {
        "Id".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 1})
    }
}

/// The most a call waits for a classification job or an audit search to finish.
pub const MAX_WAIT_SECONDS: u64 = 60;

// How long a call waits for long work to finish (0-60 seconds; 0: answer at once), reporting
// progress meanwhile. The tools' descriptions name it (no type-level description in the schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, JsonSchema)]
pub struct WaitSeconds(#[schemars(range(min = 0, max = 60))] pub u64);

impl<'de> Deserialize<'de> for WaitSeconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match lenient_int(d)? {
            Some(n) if (0..=MAX_WAIT_SECONDS as i64).contains(&n) => Ok(WaitSeconds(n as u64)),
            _ => Err(serde::de::Error::custom(format!(
                "must be a whole number of seconds from 0 to {MAX_WAIT_SECONDS}"
            ))),
        }
    }
}

/// A TCP port, 1-65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Port(pub u16);

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for Port {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        bounded_int(d, 1, 65_535).map(|n| Port(n as u16))
    }
}

impl Serialize for Port {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.0)
    }
}

impl JsonSchema for Port {
    fn schema_name() -> Cow<'static, str> {
        "Port".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "integer", "minimum": 1, "maximum": 65535})
    }
}

/// A closed set of values. Callers may use any letter case; the wire spelling is sent. A value
/// outside the set is refused with the allowed values listed (never the value given).
///
/// ```ignore
/// wire_enum! {
///     /// A DAM rule's severity.
///     pub enum Severity { Low = "low", Medium = "medium", High = "high", Critical = "critical" }
/// }
/// ```
#[macro_export]
macro_rules! wire_enum {
    ($(#[$doc:meta])* pub enum $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in wire spelling.
            pub const VALUES: &'static [&'static str] = &[$($wire),+];

            /// The wire spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let refused = || <D::Error as ::serde::de::Error>::custom(
                    format!("must be one of {}", Self::VALUES.join(", ")),
                );
                match ::serde_json::Value::deserialize(d)? {
                    ::serde_json::Value::String(s) => {
                        let s = s.trim();
                        $(if s.eq_ignore_ascii_case($wire) { return Ok($name::$variant); })+
                        Err(refused())
                    }
                    _ => Err(refused()),
                }
            }
        }

        $crate::text_enum_impls!($name, {"type": "string", "enum": Self::VALUES});
    };
}

/// A point in time: RFC 3339 (e.g. `2026-05-01T00:00:00Z`), or relative to now, `now` or a
/// minus sign, a whole number and a unit (`-90m`, `-24h`, `-7d`; also `s` and `w`), resolved by
/// the server in UTC when the call is read. An absolute time is sent as given, a relative one as
/// the RFC 3339 time it resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    /// What is sent.
    pub text: String,
    /// Seconds since the epoch.
    pub secs: i64,
    /// Whether it was given relative to now.
    pub relative: bool,
}

impl When {
    /// `text` as a time; `None` when it is neither RFC 3339 nor a relative form.
    pub fn parse(text: &str, now: i64) -> Option<When> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("now") {
            return Some(When::at(now, true));
        }
        if let Some(ago) = t.strip_prefix('-') {
            let (n, unit) = ago.split_at(ago.find(|c: char| !c.is_ascii_digit())?);
            let n: i64 = n.parse().ok()?;
            let unit = match unit.to_ascii_lowercase().as_str() {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                "w" => 604_800,
                _ => return None,
            };
            return Some(When::at(now.checked_sub(n.checked_mul(unit)?)?, true));
        }
        let secs = crate::clock::parse_rfc3339(t)?;
        Some(When {
            text: t.to_string(),
            secs,
            relative: false,
        })
    }

    fn at(secs: i64, relative: bool) -> When {
        When {
            text: crate::clock::rfc3339(secs.max(0) as u64),
            secs,
            relative,
        }
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        When::parse(&text, crate::clock::now_secs()).ok_or_else(|| {
            serde::de::Error::custom(
                "must be an RFC 3339 time such as 2026-05-01T00:00:00Z, or relative to now: now, -90m, -24h, -7d",
            )
        })
    }
}

impl Serialize for When {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl JsonSchema for When {
    fn schema_name() -> Cow<'static, str> {
        "When".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string"})
    }
}

/// Check a search window: its start not in the future, its end not before its start.
pub fn check_window(
    from: Option<&When>,
    to: Option<&When>,
    now: i64,
) -> Result<(), super::error::ToolError> {
    use super::error::ToolError;
    // A minute of leeway for clocks that differ.
    if let Some(f) = from.filter(|f| f.secs > now + 60) {
        return Err(ToolError::invalid(
            "from_date_time",
            format!(
                "is in the future ({}); the window must start by now",
                f.text
            ),
        ));
    }
    if let (Some(f), Some(t)) = (from, to) {
        if t.secs < f.secs {
            return Err(ToolError::invalid(
                "to_date_time",
                format!(
                    "({}) is before from_date_time ({}); swap them",
                    t.text, f.text
                ),
            ));
        }
    }
    Ok(())
}

/// The absolute window a search used, when either end was given relative to now.
pub fn resolved_window(from: Option<&When>, to: Option<&When>) -> Option<serde_json::Value> {
    let relative = from.is_some_and(|w| w.relative) || to.is_some_and(|w| w.relative);
    relative.then(|| {
        serde_json::json!({
            "from_date_time": from.map(|w| w.text.clone()),
            "to_date_time": to.map(|w| w.text.clone()),
        })
    })
}

/// What [`wire_enum!`] and [`open_enum!`] share: serialized as `as_str()`, with this schema.
#[doc(hidden)]
#[macro_export]
macro_rules! text_enum_impls {
    ($name:ident, $schema:tt) => {
        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                ::schemars::json_schema!($schema)
            }
        }
    };
}

/// An enumeration the API does not pin down: the known values, matched in any letter case and
/// sent in their wire spelling, and any other non-blank text passed on as given (ALTR decides).
/// Only a value set ALTR documents is refused outright ([`wire_enum!`]).
#[macro_export]
macro_rules! open_enum {
    ($(#[$doc:meta])* pub enum $name:ident { $($variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name { $($variant,)+ Other(String) }

        impl $name {
            /// The known values, in wire spelling.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The wire spelling (another value as given).
            pub fn as_str(&self) -> &str {
                match self { $($name::$variant => $wire,)+ $name::Other(s) => s }
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let refused = || <D::Error as ::serde::de::Error>::custom(
                    format!("must be text, e.g. {}", Self::KNOWN.join(", ")),
                );
                match ::serde_json::Value::deserialize(d)? {
                    ::serde_json::Value::String(s) if !s.trim().is_empty() => {
                        let s = s.trim();
                        $(if s.eq_ignore_ascii_case($wire) { return Ok($name::$variant); })+
                        Ok($name::Other(s.to_string()))
                    }
                    _ => Err(refused()),
                }
            }
        }

        $crate::text_enum_impls!($name, {"type": "string"});
    };
}

/// A list that must hold at least one item.
#[derive(Debug, Clone, PartialEq)]
pub struct NonEmpty<T>(pub Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for NonEmpty<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<T>::deserialize(d)?;
        if items.is_empty() {
            return Err(serde::de::Error::custom("must list at least one item"));
        }
        Ok(NonEmpty(items))
    }
}

impl<T: Serialize> Serialize for NonEmpty<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: JsonSchema> JsonSchema for NonEmpty<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("NonEmpty_{}", T::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<Vec<T>>();
        schema.insert("minItems".into(), 1.into());
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    wire_enum! {
        /// Test values.
        pub enum Level { Low = "low", High = "HIGH" }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(
            serde_json::from_value::<Limit<100>>(json!(5))
                .unwrap()
                .get(),
            5
        );
        assert_eq!(
            serde_json::from_value::<Limit<100>>(json!("7"))
                .unwrap()
                .get(),
            7
        );
        for bad in [json!(0), json!(101), json!(-1), json!("x"), json!(1.5)] {
            let e = serde_json::from_value::<Limit<100>>(bad).unwrap_err();
            assert!(e.to_string().contains("1 to 100"), "{e}");
        }
    }

    #[test]
    fn enums_match_any_case_and_never_echo() {
        assert_eq!(
            serde_json::from_value::<Level>(json!("LOW")).unwrap(),
            Level::Low
        );
        assert_eq!(serde_json::to_value(Level::High).unwrap(), json!("HIGH"));
        let e = serde_json::from_value::<Level>(json!("s3cret")).unwrap_err();
        assert_eq!(e.to_string(), "must be one of low, HIGH");
    }

    #[test]
    fn names_ids_ports() {
        assert!(serde_json::from_value::<Name>(json!(" ")).is_err());
        assert!(serde_json::from_value::<Name>(json!(3)).is_err());
        assert!(serde_json::from_value::<Id>(json!(0)).is_err());
        assert_eq!(serde_json::from_value::<Id>(json!("12")).unwrap(), Id(12));
        assert!(serde_json::from_value::<Port>(json!(0)).is_err());
        assert!(serde_json::from_value::<Port>(json!(65536)).is_err());
        assert_eq!(
            serde_json::from_value::<Port>(json!(5432)).unwrap(),
            Port(5432)
        );
        assert!(serde_json::from_value::<NonEmpty<String>>(json!([])).is_err());
    }
}
