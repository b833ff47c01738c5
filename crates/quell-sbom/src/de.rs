//! The streaming walk over the document: `serde` seeds that keep only the fields the reader
//! needs, check their JSON types where they are (so an error has its location), count
//! components and nesting as they come, and skip everything else without building it.
//!
//! A check that fails stores its typed [`SbomError`] in the [`Ctx`] and makes `serde_json` stop
//! with a custom error; [`crate::parse`] then returns the stored error.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::error::SbomError;
use crate::limits::{Limit, SbomLimits};

/// A location in the document, as a chain of segments on the stack; rendered only for errors.
pub(crate) struct Loc<'a> {
    parent: Option<&'a Loc<'a>>,
    seg: Seg<'a>,
}

enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> Loc<'a> {
    pub(crate) const ROOT: Loc<'static> = Loc { parent: None, seg: Seg::Root };

    fn key(&'a self, key: &'a str) -> Loc<'a> {
        Loc { parent: Some(self), seg: Seg::Key(key) }
    }

    fn index(&'a self, index: usize) -> Loc<'a> {
        Loc { parent: Some(self), seg: Seg::Index(index) }
    }

    /// The JSON pointer (RFC 6901) of this location; `/` for the top level.
    pub(crate) fn pointer(&self) -> String {
        let mut segs = Vec::new();
        let mut at = Some(self);
        while let Some(loc) = at {
            segs.push(&loc.seg);
            at = loc.parent;
        }
        let mut out = String::new();
        for seg in segs.iter().rev() {
            match seg {
                Seg::Root => {}
                Seg::Key(k) => {
                    out.push('/');
                    out.push_str(&k.replace('~', "~0").replace('/', "~1"));
                }
                Seg::Index(i) => {
                    out.push('/');
                    out.push_str(&i.to_string());
                }
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }
}

/// One CycloneDX component (or SPDX package) as read, before it becomes a `SbomComponent`.
#[derive(Debug, Default)]
pub(crate) struct Node {
    /// Index of the enclosing component in the same list.
    pub parent: Option<usize>,
    /// `metadata.component`: the document's subject.
    pub subject: bool,
    pub name: String,
    pub group: Option<String>,
    pub version: Option<String>,
    pub purl: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    /// CycloneDX `bom-ref`, SPDX `SPDXID`.
    pub reference: Option<String>,
}

/// What the walk gathered from the top-level object.
#[derive(Debug, Default)]
pub(crate) struct Raw {
    pub bom_format: Option<String>,
    pub spec_version: Option<String>,
    pub spdx_version: Option<String>,
    pub serial: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub timestamp: Option<String>,
    pub created: Option<String>,
    pub tools: Vec<String>,
    pub creators: Vec<String>,
    /// SPDX ids the document DESCRIBES (`documentDescribes`, relationships).
    pub describes: Vec<String>,
    pub saw_components: bool,
    pub saw_packages: bool,
    /// A JSON-LD `@context` string (SPDX 3 documents have one), for the error message only.
    pub context: Option<String>,
}

pub(crate) struct Ctx<'l> {
    pub limits: &'l SbomLimits,
    pub error: RefCell<Option<SbomError>>,
    /// CycloneDX components, pre-order (a parent before its children).
    pub nodes: RefCell<Vec<Node>>,
    /// SPDX packages, in document order.
    pub packages: RefCell<Vec<Node>>,
    pub count: Cell<usize>,
    pub raw: RefCell<Raw>,
}

impl<'l> Ctx<'l> {
    pub(crate) fn new(limits: &'l SbomLimits) -> Self {
        Ctx {
            limits,
            error: RefCell::new(None),
            nodes: RefCell::new(Vec::new()),
            packages: RefCell::new(Vec::new()),
            count: Cell::new(0),
            raw: RefCell::new(Raw::default()),
        }
    }

    /// Keeps the first typed error and gives `serde` an error to stop with.
    fn fail<E: de::Error>(&self, error: SbomError) -> E {
        let message = error.to_string();
        let mut slot = self.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(error);
        }
        E::custom(message)
    }

    fn wrong<E: de::Error>(&self, loc: &Loc<'_>, expected: &'static str, found: &'static str) -> E {
        self.fail(SbomError::WrongType { pointer: loc.pointer(), expected, found })
    }

    fn limit<E: de::Error>(&self, limit: Limit, max: usize, loc: &Loc<'_>) -> E {
        self.fail(SbomError::Limit { limit, max, at: loc.pointer() })
    }

    /// Entering an array or object at `depth` (the top-level object is at 1).
    fn enter<E: de::Error>(&self, depth: usize, loc: &Loc<'_>) -> Result<(), E> {
        if depth > self.limits.max_json_depth {
            return Err(self.limit(Limit::JsonDepth, self.limits.max_json_depth, loc));
        }
        Ok(())
    }

    /// One more component or package.
    fn count_one<E: de::Error>(&self, loc: &Loc<'_>) -> Result<(), E> {
        let n = self.count.get() + 1;
        if n > self.limits.max_components {
            return Err(self.limit(Limit::Components, self.limits.max_components, loc));
        }
        self.count.set(n);
        Ok(())
    }
}

/// Rejects the JSON types a visitor does not take, with the location and the type found.
macro_rules! reject {
    ($($method:ident($($arg:ty)?) => $found:expr;)*) => {
        $(
            fn $method<E: de::Error>(self $(, _: $arg)?) -> Result<Self::Value, E> {
                Err(self.ctx.wrong(self.loc, Self::EXPECTED, $found))
            }
        )*
    };
}

macro_rules! reject_scalars {
    () => {
        reject! {
            visit_bool(bool) => "a boolean";
            visit_i64(i64) => "a number";
            visit_u64(u64) => "a number";
            visit_f64(f64) => "a number";
            visit_str(&str) => "a string";
        }
    };
}

/// Object keys, borrowed from the input when they have no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Skips any value, counting its depth.
struct Skip<'c, 'l, 'a> {
    ctx: &'c Ctx<'l>,
    loc: &'a Loc<'a>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Skip<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Skip<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.ctx.enter(self.depth, self.loc)?;
        let mut i = 0;
        loop {
            let loc = self.loc.index(i);
            let seed = Skip { ctx: self.ctx, loc: &loc, depth: self.depth + 1 };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.ctx.enter(self.depth, self.loc)?;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let loc = self.loc.key(&key);
            map.next_value_seed(Skip { ctx: self.ctx, loc: &loc, depth: self.depth + 1 })?;
        }
        Ok(())
    }
}

/// An optional string field: `null` is absent; other types are errors; the length is checked
/// before the string is copied.
struct Str<'c, 'l, 'a> {
    ctx: &'c Ctx<'l>,
    loc: &'a Loc<'a>,
}

impl Str<'_, '_, '_> {
    const EXPECTED: &'static str = "a string";
}

impl<'de> DeserializeSeed<'de> for Str<'_, '_, '_> {
    type Value = Option<String>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Str<'_, '_, '_> {
    type Value = Option<String>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::EXPECTED)
    }
    reject! {
        visit_bool(bool) => "a boolean";
        visit_i64(i64) => "a number";
        visit_u64(u64) => "a number";
        visit_f64(f64) => "a number";
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let max = self.ctx.limits.max_string_bytes;
        if v.len() > max {
            return Err(self.ctx.limit(Limit::StringBytes, max, self.loc));
        }
        Ok(Some(v.to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.ctx.wrong(self.loc, Self::EXPECTED, "an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.ctx.wrong(self.loc, Self::EXPECTED, "an object"))
    }
}

/// A JSON-LD `@context`: a string is kept (when within the string limit), anything else skipped.
struct Context<'c, 'l, 'a> {
    ctx: &'c Ctx<'l>,
    loc: &'a Loc<'a>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Context<'_, '_, '_> {
    type Value = Option<String>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let Context { ctx, loc, depth } = self;
        let mut kept = None;
        d.deserialize_any(ContextVisitor { skip: Skip { ctx, loc, depth }, kept: &mut kept })?;
        Ok(kept)
    }
}

struct ContextVisitor<'c, 'l, 'a, 'k> {
    skip: Skip<'c, 'l, 'a>,
    kept: &'k mut Option<String>,
}

impl<'de> Visitor<'de> for ContextVisitor<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        if v.len() <= self.skip.ctx.limits.max_string_bytes {
            *self.kept = Some(v.to_owned());
        }
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        self.skip.visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        self.skip.visit_map(map)
    }
}

fn read_str<'de, A: MapAccess<'de>>(ctx: &Ctx<'_>, loc: &Loc<'_>, map: &mut A) -> Result<Option<String>, A::Error> {
    map.next_value_seed(Str { ctx, loc })
}

/// An array, each element read by `each(ctx, loc, depth, seq)`; `null` is an empty array.
struct Array<'c, 'l, 'a, F> {
    ctx: &'c Ctx<'l>,
    loc: &'a Loc<'a>,
    depth: usize,
    each: F,
}

/// What an [`Array`] does with its elements: reads the next one with a seed at `loc`/`depth`,
/// returning `false` at the end.
trait Element<'de> {
    fn next<A: SeqAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        depth: usize,
        seq: &mut A,
    ) -> Result<bool, A::Error>;
}

impl<'c, 'l, 'a, F> Array<'c, 'l, 'a, F> {
    const EXPECTED: &'static str = "an array";
}

impl<'de, F: Element<'de>> DeserializeSeed<'de> for Array<'_, '_, '_, F> {
    type Value = F;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<F, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Element<'de>> Visitor<'de> for Array<'_, '_, '_, F> {
    type Value = F;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::EXPECTED)
    }
    reject_scalars!();
    fn visit_unit<E: de::Error>(self) -> Result<F, E> {
        Ok(self.each)
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<F, A::Error> {
        Err(self.ctx.wrong(self.loc, Self::EXPECTED, "an object"))
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<F, A::Error> {
        self.ctx.enter(self.depth, self.loc)?;
        let mut i = 0;
        loop {
            let loc = self.loc.index(i);
            if !self.each.next(self.ctx, &loc, self.depth + 1, &mut seq)? {
                return Ok(self.each);
            }
            i += 1;
        }
    }
}

/// An object, each field handled by `field(ctx, key, loc, depth, map)`; `null` is absent.
struct Object<'c, 'l, 'a, F> {
    ctx: &'c Ctx<'l>,
    loc: &'a Loc<'a>,
    depth: usize,
    fields: F,
}

/// What an [`Object`] does with its fields: reads the value of `key` (or skips it).
trait Fields<'de> {
    fn field<A: MapAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        key: &str,
        loc: &Loc<'_>,
        depth: usize,
        map: &mut A,
    ) -> Result<(), A::Error>;
    /// Called after the last field, with the object's own location.
    fn finish<E: de::Error>(&mut self, _ctx: &Ctx<'_>, _loc: &Loc<'_>) -> Result<(), E> {
        Ok(())
    }
}

impl<'c, 'l, 'a, F> Object<'c, 'l, 'a, F> {
    const EXPECTED: &'static str = "an object";
}

impl<'de, F: Fields<'de>> DeserializeSeed<'de> for Object<'_, '_, '_, F> {
    type Value = Option<F>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<F>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, F: Fields<'de>> Visitor<'de> for Object<'_, '_, '_, F> {
    type Value = Option<F>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::EXPECTED)
    }
    reject_scalars!();
    fn visit_unit<E: de::Error>(self) -> Result<Option<F>, E> {
        Ok(None)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Option<F>, A::Error> {
        Err(self.ctx.wrong(self.loc, Self::EXPECTED, "an array"))
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Option<F>, A::Error> {
        self.ctx.enter(self.depth, self.loc)?;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let loc = self.loc.key(&key);
            self.fields.field(self.ctx, &key, &loc, self.depth + 1, &mut map)?;
        }
        self.fields.finish(self.ctx, self.loc)?;
        Ok(Some(self.fields))
    }
}

fn skip<'de, A: MapAccess<'de>>(ctx: &Ctx<'_>, loc: &Loc<'_>, depth: usize, map: &mut A) -> Result<(), A::Error> {
    map.next_value_seed(Skip { ctx, loc, depth })
}

fn read_object<'de, A: MapAccess<'de>, F: Fields<'de>>(
    ctx: &Ctx<'_>,
    loc: &Loc<'_>,
    depth: usize,
    map: &mut A,
    fields: F,
) -> Result<Option<F>, A::Error> {
    map.next_value_seed(Object { ctx, loc, depth, fields })
}

fn read_array<'de, A: MapAccess<'de>, F: Element<'de>>(
    ctx: &Ctx<'_>,
    loc: &Loc<'_>,
    depth: usize,
    map: &mut A,
    each: F,
) -> Result<F, A::Error> {
    map.next_value_seed(Array { ctx, loc, depth, each })
}

/// The next element of an array of objects, read with `fields`.
fn next_object<'de, A: SeqAccess<'de>, F: Fields<'de>>(
    ctx: &Ctx<'_>,
    loc: &Loc<'_>,
    depth: usize,
    seq: &mut A,
    fields: F,
) -> Result<Option<Option<F>>, A::Error> {
    seq.next_element_seed(Object { ctx, loc, depth, fields })
}

/// A hex digest of `len` digits, lowercased; anything else is an `InvalidValue`.
fn hex_digest<E: de::Error>(ctx: &Ctx<'_>, loc: &Loc<'_>, alg: &str, len: usize, value: &str) -> Result<String, E> {
    if value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(value.to_ascii_lowercase());
    }
    let shown: String = value.chars().take(80).collect();
    let reason = format!("expected {len} hex digits for {alg}, found {shown:?}");
    Err(ctx.fail(SbomError::InvalidValue { pointer: loc.pointer(), reason }))
}

/// An object of which only some string members matter: the value of `keys[i]` lands in
/// `values[i]` (the last one wins when a key repeats); every other member is skipped, under the
/// same depth and size limits as the rest of the document.
struct StringMembers<const N: usize> {
    keys: [&'static str; N],
    values: [Option<String>; N],
}

impl<const N: usize> StringMembers<N> {
    fn new(keys: [&'static str; N]) -> Self {
        StringMembers { keys, values: std::array::from_fn(|_| None) }
    }
}

impl<'de, const N: usize> Fields<'de> for StringMembers<N> {
    fn field<A: MapAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        key: &str,
        loc: &Loc<'_>,
        depth: usize,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match self.keys.iter().position(|wanted| *wanted == key) {
            Some(index) => self.values[index] = read_str(ctx, loc, map)?,
            None => skip(ctx, loc, depth, map)?,
        }
        Ok(())
    }
}

// ---------------------------------------------------------------- the top level

/// The top-level object of either format.
pub(crate) struct Root;

impl<'de> Fields<'de> for Root {
    fn field<A: MapAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        key: &str,
        loc: &Loc<'_>,
        depth: usize,
        map: &mut A,
    ) -> Result<(), A::Error> {
        // The value is read before `raw` is borrowed: no borrow is held while reading.
        let set =
            |slot: fn(&mut Raw) -> &mut Option<String>, value: Option<String>| *slot(&mut ctx.raw.borrow_mut()) = value;
        match key {
            "bomFormat" => set(|r| &mut r.bom_format, read_str(ctx, loc, map)?),
            "specVersion" => set(|r| &mut r.spec_version, read_str(ctx, loc, map)?),
            "serialNumber" => set(|r| &mut r.serial, read_str(ctx, loc, map)?),
            "spdxVersion" => set(|r| &mut r.spdx_version, read_str(ctx, loc, map)?),
            "documentNamespace" => set(|r| &mut r.namespace, read_str(ctx, loc, map)?),
            "name" => set(|r| &mut r.name, read_str(ctx, loc, map)?),
            "metadata" => {
                read_object(ctx, loc, depth, map, Metadata)?;
            }
            "components" => {
                ctx.raw.borrow_mut().saw_components = true;
                read_array(ctx, loc, depth, map, Components { parent: None, level: 1 })?;
            }
            "creationInfo" => {
                read_object(ctx, loc, depth, map, CreationInfo)?;
            }
            "packages" => {
                ctx.raw.borrow_mut().saw_packages = true;
                read_array(ctx, loc, depth, map, Packages)?;
            }
            "documentDescribes" => {
                let ids = read_array(ctx, loc, depth, map, Strings::default())?;
                ctx.raw.borrow_mut().describes.extend(ids.0);
            }
            "@context" => {
                let context = map.next_value_seed(Context { ctx, loc, depth })?;
                ctx.raw.borrow_mut().context = context;
            }
            "relationships" => {
                read_array(ctx, loc, depth, map, Relationships)?;
            }
            _ => skip(ctx, loc, depth, map)?,
        }
        Ok(())
    }
}

/// The seed of the whole document: the top level must be an object.
pub(crate) struct Document<'c, 'l> {
    pub ctx: &'c Ctx<'l>,
}

impl<'de> DeserializeSeed<'de> for Document<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Document<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        Object { ctx: self.ctx, loc: &Loc::ROOT, depth: 1, fields: Root }.visit_map(map)?;
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(self.not_object("an array"))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(self.not_object("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(self.not_object("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(self.not_object("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(self.not_object("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(self.not_object("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(self.not_object("null"))
    }
}

impl Document<'_, '_> {
    fn not_object<E: de::Error>(&self, found: &str) -> E {
        self.ctx.fail(SbomError::NotSbom(format!("the top level is {found}, not an object")))
    }
}

// ---------------------------------------------------------------- CycloneDX

struct Metadata;

impl<'de> Fields<'de> for Metadata {
    fn field<A: MapAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        key: &str,
        loc: &Loc<'_>,
        depth: usize,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match key {
            "timestamp" => {
                let value = read_str(ctx, loc, map)?;
                ctx.raw.borrow_mut().timestamp = value;
            }
            "tools" => map.next_value_seed(ToolsSeed { ctx, loc, depth })?,
            "component" => {
                let fields = Component { parent: None, level: 1, subject: true, index: None, node: Node::default() };
                read_object(ctx, loc, depth, map, fields)?;
            }
            _ => skip(ctx, loc, depth, map)?,
        }
        Ok(())
    }
}

/// `metadata.tools`: an array of `{vendor, name, version}` (1.4, deprecated later) or an object
/// `{components: [...], services: [...]}` (1.5, 1.6).
struct ToolsSeed<'c, 'l, 'a> {
    ctx: &'c Ctx<'l>,
    loc: &'a Loc<'a>,
    depth: usize,
}

impl ToolsSeed<'_, '_, '_> {
    const EXPECTED: &'static str = "an array or an object";
}

impl<'de> DeserializeSeed<'de> for ToolsSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ToolsSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(Self::EXPECTED)
    }
    reject_scalars!();
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        Array { ctx: self.ctx, loc: self.loc, depth: self.depth, each: ToolList }.visit_seq(seq)?;
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        Object { ctx: self.ctx, loc: self.loc, depth: self.depth, fields: ToolGroups }.visit_map(map)?;
        Ok(())
    }
}

struct ToolGroups;

impl<'de> Fields<'de> for ToolGroups {
    fn field<A: MapAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        key: &str,
        loc: &Loc<'_>,
        depth: usize,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match key {
            "components" | "services" => {
                read_array(ctx, loc, depth, map, ToolList)?;
            }
            _ => skip(ctx, loc, depth, map)?,
        }
        Ok(())
    }
}

struct ToolList;

impl<'de> Element<'de> for ToolList {
    fn next<A: SeqAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        depth: usize,
        seq: &mut A,
    ) -> Result<bool, A::Error> {
        let Some(tool) = next_object(ctx, loc, depth, seq, StringMembers::new(["name", "version"]))? else {
            return Ok(false);
        };
        if let Some(StringMembers { values: [Some(name), version], .. }) = tool {
            let text = match version {
                Some(v) if !v.is_empty() => format!("{name} {v}"),
                _ => name,
            };
            ctx.raw.borrow_mut().tools.push(text);
        }
        Ok(true)
    }
}

/// A `components` array at nesting `level` (1 for the top level), inside `parent`.
struct Components {
    parent: Option<usize>,
    level: usize,
}

impl<'de> Element<'de> for Components {
    fn next<A: SeqAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        depth: usize,
        seq: &mut A,
    ) -> Result<bool, A::Error> {
        let fields =
            Component { parent: self.parent, level: self.level, subject: false, index: None, node: Node::default() };
        Ok(next_object(ctx, loc, depth, seq, fields)?.is_some())
    }
}

/// One CycloneDX component. Its node is reserved in `ctx.nodes` when its first field arrives
/// (so it comes before its nested components) and filled in at its end.
struct Component {
    parent: Option<usize>,
    level: usize,
    subject: bool,
    index: Option<usize>,
    node: Node,
}

impl Component {
    fn reserve<E: de::Error>(&mut self, ctx: &Ctx<'_>, loc: &Loc<'_>) -> Result<usize, E> {
        if let Some(index) = self.index {
            return Ok(index);
        }
        if self.level > ctx.limits.max_component_depth {
            return Err(ctx.limit(Limit::ComponentDepth, ctx.limits.max_component_depth, loc));
        }
        ctx.count_one(loc)?;
        let mut nodes = ctx.nodes.borrow_mut();
        let index = nodes.len();
        nodes.push(Node { parent: self.parent, subject: self.subject, ..Node::default() });
        self.index = Some(index);
        Ok(index)
    }
}

impl<'de> Fields<'de> for Component {
    fn field<A: MapAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        key: &str,
        loc: &Loc<'_>,
        depth: usize,
        map: &mut A,
    ) -> Result<(), A::Error> {
        let parent = loc.parent.unwrap_or(&Loc::ROOT);
        let index = self.reserve(ctx, parent)?;
        let node = &mut self.node;
        match key {
            "name" => node.name = read_str(ctx, loc, map)?.unwrap_or_default(),
            "group" => node.group = read_str(ctx, loc, map)?,
            "version" => node.version = read_str(ctx, loc, map)?,
            "purl" => node.purl = read_str(ctx, loc, map)?,
            "bom-ref" => node.reference = read_str(ctx, loc, map)?,
            "hashes" => {
                let hashes = read_array(ctx, loc, depth, map, Digests::new(&CDX_DIGESTS))?;
                node.sha1 = node.sha1.take().or(hashes.sha1);
                node.sha256 = node.sha256.take().or(hashes.sha256);
            }
            "components" => {
                read_array(ctx, loc, depth, map, Components { parent: Some(index), level: self.level + 1 })?;
            }
            _ => skip(ctx, loc, depth, map)?,
        }
        Ok(())
    }

    fn finish<E: de::Error>(&mut self, ctx: &Ctx<'_>, loc: &Loc<'_>) -> Result<(), E> {
        let index = self.reserve(ctx, loc)?;
        if self.node.name.is_empty() {
            let name = loc.key("name");
            return Err(ctx.fail(SbomError::Missing { pointer: name.pointer() }));
        }
        let mut nodes = ctx.nodes.borrow_mut();
        if let Some(slot) = nodes.get_mut(index) {
            let node = std::mem::take(&mut self.node);
            *slot = Node { parent: slot.parent, subject: slot.subject, ..node };
        }
        Ok(())
    }
}

/// A `hashes` (CycloneDX) or `checksums` (SPDX) array: the first SHA-1 and SHA-256 digests,
/// each checked to be hex of the right length. The two formats name the members and the
/// algorithms differently ([`CDX_DIGESTS`], [`SPDX_DIGESTS`]); the reading is the same.
struct Digests {
    names: &'static DigestNames,
    sha1: Option<String>,
    sha256: Option<String>,
}

/// How one format writes a digest: `{alg_key: "SHA-1", content_key: "…"}`.
struct DigestNames {
    alg_key: &'static str,
    content_key: &'static str,
    sha1: &'static str,
    sha256: &'static str,
}

const CDX_DIGESTS: DigestNames =
    DigestNames { alg_key: "alg", content_key: "content", sha1: "SHA-1", sha256: "SHA-256" };
const SPDX_DIGESTS: DigestNames =
    DigestNames { alg_key: "algorithm", content_key: "checksumValue", sha1: "SHA1", sha256: "SHA256" };

impl Digests {
    fn new(names: &'static DigestNames) -> Self {
        Digests { names, sha1: None, sha256: None }
    }
}

impl<'de> Element<'de> for Digests {
    fn next<A: SeqAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        depth: usize,
        seq: &mut A,
    ) -> Result<bool, A::Error> {
        let names = self.names;
        let Some(hash) = next_object(ctx, loc, depth, seq, StringMembers::new([names.alg_key, names.content_key]))?
        else {
            return Ok(false);
        };
        if let Some(StringMembers { values: [Some(alg), Some(content)], .. }) = hash {
            let content_loc = loc.key(names.content_key);
            if alg == names.sha1 && self.sha1.is_none() {
                self.sha1 = Some(hex_digest(ctx, &content_loc, names.sha1, 40, &content)?);
            } else if alg == names.sha256 && self.sha256.is_none() {
                self.sha256 = Some(hex_digest(ctx, &content_loc, names.sha256, 64, &content)?);
            }
        }
        Ok(true)
    }
}

// ---------------------------------------------------------------- SPDX

struct CreationInfo;

impl<'de> Fields<'de> for CreationInfo {
    fn field<A: MapAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        key: &str,
        loc: &Loc<'_>,
        depth: usize,
        map: &mut A,
    ) -> Result<(), A::Error> {
        match key {
            "created" => {
                let value = read_str(ctx, loc, map)?;
                ctx.raw.borrow_mut().created = value;
            }
            "creators" => {
                let creators = read_array(ctx, loc, depth, map, Strings::default())?;
                ctx.raw.borrow_mut().creators = creators.0;
            }
            _ => skip(ctx, loc, depth, map)?,
        }
        Ok(())
    }
}

/// An array of strings.
#[derive(Default)]
struct Strings(Vec<String>);

impl<'de> Element<'de> for Strings {
    fn next<A: SeqAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        _depth: usize,
        seq: &mut A,
    ) -> Result<bool, A::Error> {
        match seq.next_element_seed(Str { ctx, loc })? {
            None => Ok(false),
            Some(value) => {
                self.0.extend(value);
                Ok(true)
            }
        }
    }
}

struct Relationships;

impl<'de> Element<'de> for Relationships {
    fn next<A: SeqAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        depth: usize,
        seq: &mut A,
    ) -> Result<bool, A::Error> {
        let fields = StringMembers::new(["spdxElementId", "relationshipType", "relatedSpdxElement"]);
        let Some(rel) = next_object(ctx, loc, depth, seq, fields)? else {
            return Ok(false);
        };
        if let Some(StringMembers { values: [Some(element), Some(kind), Some(related)], .. }) = rel {
            match kind.as_str() {
                "DESCRIBES" if element == "SPDXRef-DOCUMENT" => ctx.raw.borrow_mut().describes.push(related),
                "DESCRIBED_BY" if related == "SPDXRef-DOCUMENT" => ctx.raw.borrow_mut().describes.push(element),
                _ => {}
            }
        }
        Ok(true)
    }
}

struct Packages;

impl<'de> Element<'de> for Packages {
    fn next<A: SeqAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        depth: usize,
        seq: &mut A,
    ) -> Result<bool, A::Error> {
        let Some(package) = next_object(ctx, loc, depth, seq, Package::default())? else {
            return Ok(false);
        };
        if let Some(package) = package {
            ctx.packages.borrow_mut().push(package.node);
        }
        Ok(true)
    }
}

#[derive(Default)]
struct Package {
    counted: bool,
    node: Node,
}

impl<'de> Fields<'de> for Package {
    fn field<A: MapAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        key: &str,
        loc: &Loc<'_>,
        depth: usize,
        map: &mut A,
    ) -> Result<(), A::Error> {
        if !self.counted {
            ctx.count_one(loc.parent.unwrap_or(&Loc::ROOT))?;
            self.counted = true;
        }
        let node = &mut self.node;
        match key {
            "name" => node.name = read_str(ctx, loc, map)?.unwrap_or_default(),
            "SPDXID" => node.reference = read_str(ctx, loc, map)?,
            "versionInfo" => node.version = read_str(ctx, loc, map)?,
            "externalRefs" => {
                let refs = read_array(ctx, loc, depth, map, ExternalRefs::default())?;
                node.purl = node.purl.take().or(refs.0);
            }
            "checksums" => {
                let sums = read_array(ctx, loc, depth, map, Digests::new(&SPDX_DIGESTS))?;
                node.sha1 = node.sha1.take().or(sums.sha1);
                node.sha256 = node.sha256.take().or(sums.sha256);
            }
            _ => skip(ctx, loc, depth, map)?,
        }
        Ok(())
    }

    fn finish<E: de::Error>(&mut self, ctx: &Ctx<'_>, loc: &Loc<'_>) -> Result<(), E> {
        if !self.counted {
            ctx.count_one(loc)?;
            self.counted = true;
        }
        if self.node.name.is_empty() {
            return Err(ctx.fail(SbomError::Missing { pointer: loc.key("name").pointer() }));
        }
        Ok(())
    }
}

/// The first `purl` of `externalRefs`.
#[derive(Default)]
struct ExternalRefs(Option<String>);

impl<'de> Element<'de> for ExternalRefs {
    fn next<A: SeqAccess<'de>>(
        &mut self,
        ctx: &Ctx<'_>,
        loc: &Loc<'_>,
        depth: usize,
        seq: &mut A,
    ) -> Result<bool, A::Error> {
        let Some(r) = next_object(ctx, loc, depth, seq, StringMembers::new(["referenceType", "referenceLocator"]))?
        else {
            return Ok(false);
        };
        if let Some(StringMembers { values: [Some(kind), Some(locator)], .. }) = r
            && kind == "purl"
            && self.0.is_none()
        {
            self.0 = Some(locator);
        }
        Ok(true)
    }
}
