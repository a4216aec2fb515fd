//! A Subsonic answer as a small tree of elements, written as the client asked: XML (the default,
//! in the `http://subsonic.org/restapi` namespace), JSON, or JSONP. The tree keeps the order it was
//! built in, so XML follows the schema's sequences; in JSON an element's attributes are fields,
//! a single child is an object, a list of children is an array (even of one), and text is `value`.

use std::fmt::Write as _;

use serde::ser::{Serialize, SerializeMap as _, SerializeSeq as _, Serializer};

/// The protocol version answered.
pub(super) const VERSION: &str = "1.16.1";

/// An attribute's value.
#[derive(Debug, Clone)]
pub(super) enum Scalar {
    /// Text.
    Text(String),
    /// A whole number.
    Int(i64),
    /// `true` or `false`.
    Bool(bool),
    /// A number with a fraction (ReplayGain levels, times in seconds).
    Float(f64),
}

impl From<&str> for Scalar {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for Scalar {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<i64> for Scalar {
    fn from(n: i64) -> Self {
        Self::Int(n)
    }
}

impl From<u64> for Scalar {
    fn from(n: u64) -> Self {
        Self::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<u32> for Scalar {
    fn from(n: u32) -> Self {
        Self::Int(i64::from(n))
    }
}

impl From<usize> for Scalar {
    fn from(n: usize) -> Self {
        Self::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}

impl From<f64> for Scalar {
    fn from(n: f64) -> Self {
        Self::Float(n)
    }
}

impl From<&String> for Scalar {
    fn from(text: &String) -> Self {
        Self::Text(text.clone())
    }
}

impl From<bool> for Scalar {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

/// A scalar as a JSON value (a fraction that is not finite as `null`).
impl Serialize for Scalar {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Text(text) => serializer.serialize_str(text),
            Self::Int(n) => serializer.serialize_i64(*n),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Float(n) if n.is_finite() => serializer.serialize_f64(*n),
            Self::Float(_) => serializer.serialize_none(),
        }
    }
}

impl Scalar {
    fn xml(&self, out: &mut String) {
        match self {
            Self::Text(text) => escape(text, out),
            Self::Int(n) => {
                let _ = write!(out, "{n}");
            }
            Self::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Self::Float(n) => {
                let _ = write!(out, "{n}");
            }
        }
    }
}

/// What an element holds besides its attributes.
#[derive(Debug, Clone)]
enum Child {
    /// One element (an object in JSON).
    One(Element),
    /// Elements of one name (an array in JSON).
    List(&'static str, Vec<Element>),
    /// Values of one name (an array of scalars in JSON; repeated text elements in XML).
    Values(&'static str, Vec<Scalar>),
    /// Text content (`value` in JSON).
    Text(String),
}

/// One element of an answer.
#[derive(Debug, Clone)]
pub(super) struct Element {
    name: &'static str,
    attributes: Vec<(&'static str, Scalar)>,
    children: Vec<Child>,
}

impl Element {
    /// An empty element.
    pub(super) fn new(name: &'static str) -> Self {
        Self::with_room(name, 0)
    }

    /// An empty element with room for `attributes` attributes (a song has about 35).
    pub(super) fn with_room(name: &'static str, attributes: usize) -> Self {
        Self {
            name,
            attributes: Vec::with_capacity(attributes),
            children: Vec::new(),
        }
    }

    /// With an attribute.
    pub(super) fn attr(mut self, name: &'static str, value: impl Into<Scalar>) -> Self {
        self.attributes.push((name, value.into()));
        self
    }

    /// With one child element.
    pub(super) fn child(mut self, child: Element) -> Self {
        self.children.push(Child::One(child));
        self
    }

    /// With a list of child elements of `name` (an array in JSON, however many).
    pub(super) fn list(mut self, name: &'static str, children: Vec<Element>) -> Self {
        self.children.push(Child::List(name, children));
        self
    }

    /// With a list of values of `name` (an array of scalars in JSON).
    pub(super) fn values(mut self, name: &'static str, values: Vec<Scalar>) -> Self {
        self.children.push(Child::Values(name, values));
        self
    }

    /// With text content (a genre's name, lyrics): `value` in JSON.
    pub(super) fn text(mut self, text: impl Into<String>) -> Self {
        self.children.push(Child::Text(text.into()));
        self
    }

    /// With the attribute if there is a value.
    pub(super) fn maybe(self, name: &'static str, value: Option<impl Into<Scalar>>) -> Self {
        match value {
            Some(value) => self.attr(name, value),
            None => self,
        }
    }

    fn xml(&self, out: &mut String, namespace: bool) {
        out.push('<');
        out.push_str(self.name);
        if namespace {
            out.push_str(" xmlns=\"http://subsonic.org/restapi\"");
        }
        for (name, value) in &self.attributes {
            let _ = write!(out, " {name}=\"");
            value.xml(out);
            out.push('"');
        }
        if self.children.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for child in &self.children {
            match child {
                Child::One(element) => element.xml(out, false),
                Child::List(_, elements) => {
                    for element in elements {
                        element.xml(out, false);
                    }
                }
                Child::Values(name, values) => {
                    for value in values {
                        let _ = write!(out, "<{name}>");
                        value.xml(out);
                        let _ = write!(out, "</{name}>");
                    }
                }
                Child::Text(text) => escape(text, out),
            }
        }
        let _ = write!(out, "</{}>", self.name);
    }
}

/// An element as a JSON object, written straight out (no tree of values in between): its
/// attributes as fields, then each child under its name, a list as an array.
impl Serialize for Element {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map =
            serializer.serialize_map(Some(self.attributes.len() + self.children.len()))?;
        for (name, value) in &self.attributes {
            map.serialize_entry(name, value)?;
        }
        for child in &self.children {
            match child {
                Child::One(element) => map.serialize_entry(element.name, element)?,
                Child::List(name, elements) => map.serialize_entry(name, &Array(elements))?,
                Child::Values(name, values) => map.serialize_entry(name, &Array(values))?,
                Child::Text(text) => map.serialize_entry("value", text)?,
            }
        }
        map.end()
    }
}

/// Items written as a JSON array.
struct Array<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for Array<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            seq.serialize_element(item)?;
        }
        seq.end()
    }
}

/// `{"subsonic-response": root}`.
struct Envelope<'a>(&'a Element);

impl Serialize for Envelope<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("subsonic-response", self.0)?;
        map.end()
    }
}

/// Escapes `text` for XML text and attribute values; characters XML 1.0 cannot carry at all
/// (control characters) become U+FFFD.
fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => {
                let _ = write!(out, "&#{};", c as u32);
            }
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

/// How the client asked for its answer (`f`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Wire {
    /// `f=xml`, or no `f`.
    Xml,
    /// `f=json`.
    Json,
    /// `f=jsonp&callback=<name>`: JSON passed to a function of the page's.
    Jsonp(String),
}

impl Wire {
    /// From `f` and `callback`; an unknown `f` is XML (as Subsonic does), and JSONP without a
    /// callback that is a plain JavaScript name is JSON.
    pub(super) fn of(f: Option<&str>, callback: Option<&str>) -> Self {
        match f {
            Some("json") => Self::Json,
            Some("jsonp") => match callback.filter(|name| plain_name(name)) {
                Some(name) => Self::Jsonp(name.to_owned()),
                None => Self::Json,
            },
            _ => Self::Xml,
        }
    }
}

/// Whether `name` is a dotted JavaScript identifier, safe to call in a script.
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.split('.').all(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        })
}

/// The envelope, `status` first, then `version` and OpenSubsonic's `type`, `serverVersion` and
/// `openSubsonic`: an answer adds its elements to it.
pub(super) fn root(ok: bool) -> Element {
    Element::new("subsonic-response")
        .attr("status", if ok { "ok" } else { "failed" })
        .attr("version", VERSION)
        .attr("type", "audio-streamer")
        .attr("serverVersion", env!("CARGO_PKG_VERSION"))
        .attr("openSubsonic", true)
}

/// The whole answer `root` (see [`root`]), written as `wire` asks; with its content type.
pub(super) fn write(root: &Element, wire: &Wire) -> (&'static str, String) {
    match wire {
        Wire::Xml => {
            let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            root.xml(&mut out, true);
            ("text/xml; charset=utf-8", out)
        }
        Wire::Json => ("application/json", json(root)),
        Wire::Jsonp(callback) => (
            "application/javascript",
            format!("{callback}({});", json(root)),
        ),
    }
}

/// The answer as JSON text.
fn json(root: &Element) -> String {
    let mut out = Vec::with_capacity(16 * 1024);
    serde_json::to_writer(&mut out, &Envelope(root)).expect("an answer's JSON is always written");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Element {
        Element::new("openSubsonicExtensions")
            .attr("name", "formPost")
            .values("versions", vec![Scalar::Int(1)])
    }

    #[test]
    fn xml_keeps_order_escapes_and_repeats_lists() {
        let folders = Element::new("musicFolders").list(
            "musicFolder",
            vec![
                Element::new("musicFolder")
                    .attr("id", 1i64)
                    .attr("name", "a<b & \"c\"\u{1}"),
            ],
        );
        let (kind, xml) = write(&root(true).child(folders), &Wire::Xml);
        assert_eq!(kind, "text/xml; charset=utf-8");
        assert!(xml.contains(
            "<musicFolders><musicFolder id=\"1\" name=\"a&lt;b &amp; &quot;c&quot;\u{fffd}\"/></musicFolders>"
        ), "{xml}");
        assert!(
            xml.contains("xmlns=\"http://subsonic.org/restapi\" status=\"ok\" version=\"1.16.1\"")
        );
    }

    #[test]
    fn json_makes_lists_arrays_even_of_one_and_values_scalars() {
        let one = Element::new("one")
            .attr("gain", -6.5)
            .attr("peak", f64::NAN)
            .text("a \"quoted\" line\n");
        let answer = root(true).list("e", vec![sample()]).child(one);
        let (_, json) = write(&answer, &Wire::Json);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let answer = &value["subsonic-response"];
        assert_eq!(answer["status"], "ok");
        assert_eq!(answer["openSubsonic"], true);
        assert_eq!(answer["e"][0]["versions"], serde_json::json!([1]));
        assert_eq!(
            answer["one"],
            serde_json::json!({ "gain": -6.5, "peak": null, "value": "a \"quoted\" line\n" })
        );
    }

    #[test]
    fn jsonp_needs_a_plain_callback_name() {
        assert_eq!(
            Wire::of(Some("jsonp"), Some("app.cb_1")),
            Wire::Jsonp("app.cb_1".into())
        );
        for hostile in ["alert(1)//", "a;b", "", "1a", "a..b", "</script>"] {
            assert_eq!(
                Wire::of(Some("jsonp"), Some(hostile)),
                Wire::Json,
                "{hostile}"
            );
        }
        assert_eq!(Wire::of(Some("nonsense"), None), Wire::Xml);
        let (kind, body) = write(&root(true), &Wire::Jsonp("cb".into()));
        assert_eq!(kind, "application/javascript");
        assert!(body.starts_with("cb({\"subsonic-response\":") && body.ends_with(");"));
    }
}
